-- The resend floor for the service's own statement: what `resendWelcomeEmail` sends
-- PostgreSQL on PostgreSQL (access/src/link_email.rs), one statement that does all
-- of bench/floor/resend.sql's transaction, run by pgbench the same way:
-- pgbench -n -M prepared -c N -j 2 -T S -D clients=<seeded> -D orgs=<practices> \
--   -f bench/floor/resend_one.sql
-- The session look-up and Redis stay out of it, as in resend.sql.
-- Seeded client n has id 00000000-0000-7000-8000-<n as 12 hex digits> and belongs to
-- practice n % orgs, id 00000000-0000-7000-9000-<as 12 hex digits> (bench/src/seed.rs).
\set n random(0, :clients - 1)
WITH c AS (
    UPDATE client SET link_generation = link_generation + 1, updated_at = now()
    WHERE id = ('00000000-0000-7000-8000-' || lpad(to_hex(:n::int), 12, '0'))::uuid
      AND organization_id = ('00000000-0000-7000-9000-' || lpad(to_hex(:n::int % :orgs::int), 12, '0'))::uuid
      AND email IS NOT NULL
    RETURNING *),
links AS (
    -- Migration 18's function: its snapshot sees links minted while this waited.
    SELECT portal_end_live_links((SELECT id FROM c), now(), 'superseded') AS ended),
queued AS (
    UPDATE email_delivery SET status = 'superseded', updated_at = now()
    WHERE client_id = (SELECT id FROM c) AND link_kind IS NOT NULL AND status = 'queued'),
d AS (
    INSERT INTO email_delivery (id, client_id, kind, to_address, link_kind, link_generation,
        status, attempts, next_attempt_at, created_at, updated_at, counted_in)
    SELECT gen_random_uuid(), c.id,
        CASE WHEN c.password_hash IS NULL THEN 'welcome' ELSE 'password_reset' END, c.email,
        CASE WHEN c.password_hash IS NULL THEN 'invite' ELSE 'password_reset' END,
        c.link_generation, 'queued', 0, now(), now(), now(), 'provider' FROM c
    RETURNING *),
audit AS (
    INSERT INTO audit_event (id, organization_id, actor_kind, actor_id, action, client_id,
        detail, ip, created_at)
    SELECT gen_random_uuid(), c.organization_id, 'provider', c.organization_id,
        CASE WHEN c.password_hash IS NULL THEN 'email.invite_resent'
            ELSE 'email.password_reset_sent' END,
        c.id,
        'to ' || CASE WHEN strpos(c.email, '@') = 0 THEN '***'
            ELSE left(split_part(c.email, '@', 1), 1) || '***@'
                || substr(c.email, strpos(c.email, '@') + 1) END,
        '127.0.0.1', now() FROM c)
SELECT c.*, d.* FROM c CROSS JOIN d CROSS JOIN links;
