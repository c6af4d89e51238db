-- The resend floor: what one `resendWelcomeEmail` must do in PostgreSQL, run by
-- pgbench with one connection per concurrent client (`bench/src/floors.rs` runs it:
-- pgbench -n -M prepared -c N -j 2 -T S -D clients=<seeded> -f bench/floor/resend.sql).
-- One transaction: lock the client and start a new link generation, end the live
-- links, supersede queued link emails, queue the new email, audit it. No session
-- lookup, no Redis: everything the service does beyond this is its own overhead.
-- Seeded client n has id 00000000-0000-7000-8000-<n as 12 hex digits> (bench/src/seed.rs).
\set n random(0, :clients - 1)
BEGIN;
UPDATE client SET link_generation = link_generation + 1, updated_at = now()
  WHERE id = ('00000000-0000-7000-8000-' || lpad(to_hex(:n::int), 12, '0'))::uuid
  RETURNING id AS cid, organization_id AS org, link_generation AS gen, email AS email \gset
UPDATE account_link SET revoked_at = now(), revoked_reason = 'superseded'
  WHERE client_id = :cid AND used_at IS NULL AND revoked_at IS NULL;
UPDATE email_delivery SET status = 'superseded', updated_at = now()
  WHERE client_id = :cid AND link_kind IS NOT NULL AND status = 'queued';
INSERT INTO email_delivery (id, client_id, kind, to_address, link_kind, link_generation,
    status, attempts, next_attempt_at, created_at, updated_at, counted_in)
  VALUES (gen_random_uuid(), :cid, 'welcome', :email, 'invite', :gen,
    'queued', 0, now(), now(), now(), 'provider')
  RETURNING id;
INSERT INTO audit_event (id, organization_id, actor_kind, actor_id, action, client_id,
    detail, ip, created_at)
  VALUES (gen_random_uuid(), :org, 'provider', :org, 'email.invite_resent', :cid,
    'to c***@bench.example', '127.0.0.1', now());
END;
