# Build the `portal` binary, then ship it on a slim Debian with nothing else.
FROM rust:1.95-bookworm AS build
WORKDIR /src

# Dependencies first, in a layer of their own: rebuilt only when a manifest or
# Cargo.lock changes, not on every edit of the sources. Each workspace member gets
# an empty stand-in so cargo can resolve and compile everything it depends on.
COPY Cargo.toml Cargo.lock ./
# The patched dependencies (vendor/README.md) that [patch.crates-io] points at.
COPY vendor vendor/
COPY access/Cargo.toml access/
COPY api/Cargo.toml api/
COPY bench/Cargo.toml bench/
COPY entity/Cargo.toml entity/
COPY jobs/Cargo.toml jobs/
COPY migration/Cargo.toml migration/
COPY tests/Cargo.toml tests/
RUN for lib in access api entity jobs migration tests; do \
      mkdir -p "$lib/src" && touch "$lib/src/lib.rs"; \
    done \
 && mkdir -p bench/src \
 && echo 'fn main() {}' > api/src/main.rs \
 && echo 'fn main() {}' > bench/src/main.rs \
 && cargo build --release --locked -p portal-api --bin portal \
 && rm -rf access/src api/src bench/src entity/src jobs/src migration/src tests/src

# The sources. Touched so cargo sees them as newer than the stand-ins it built.
COPY . .
RUN find access api entity jobs migration -name '*.rs' -exec touch {} + \
 && cargo build --release --locked -p portal-api --bin portal

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid 10001 --home /app portal \
 && mkdir -p /app && chown 10001:10001 /app
WORKDIR /app
COPY --from=build /src/target/release/portal /usr/local/bin/portal
# Numeric, so a runtime that refuses root (runAsNonRoot) can check it.
USER 10001:10001
ENV BIND=0.0.0.0:8000 \
    WORKER_BIND=0.0.0.0:9090
EXPOSE 8000 9090
# `serve`'s /readyz (database, Redis). A worker container overrides it with
# `portal healthcheck --worker` (its /readyz also asks the mail server).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["portal", "healthcheck"]
ENTRYPOINT ["portal"]
CMD ["serve"]
