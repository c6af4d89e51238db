# Build the `portal` binary, then ship it on a slim Debian with nothing else.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p portal-api --bin portal

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app portal
WORKDIR /app
COPY --from=build /src/target/release/portal /usr/local/bin/portal
USER portal
ENV BIND=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["portal"]
CMD ["serve"]
