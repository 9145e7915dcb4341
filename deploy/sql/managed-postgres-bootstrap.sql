-- One-off bootstrap of a managed PostgreSQL (production: terraform's RDS or DigitalOcean cluster):
-- one schema per service, owned by that service's role, which can touch nothing else. Idempotent.
-- Run as the admin user against the `cryptocare` database, e.g.
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -f deploy/sql/managed-postgres-bootstrap.sql
-- DigitalOcean: terraform already created the login roles (digitalocean_database_user); their
-- passwords are in `terraform output -json service_direct_uris`.
-- AWS RDS: the roles are created here without a password; set one per role afterwards with
--   \password identity   (and so on), then put the URLs into each service's document in the secret
--   store (docs/secrets.md).

REVOKE ALL ON SCHEMA public FROM PUBLIC;

DO $$
DECLARE
  svc text;
BEGIN
  FOREACH svc IN ARRAY ARRAY['identity', 'search', 'appointment', 'payment', 'video'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = svc) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', svc);
    END IF;
    -- the admin must be a member to hand the schema over (RDS and DigitalOcean admins are not superusers)
    EXECUTE format('GRANT %I TO CURRENT_USER', svc);
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', svc, svc);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', svc);
    EXECUTE format('ALTER ROLE %I SET search_path = %I', svc, svc);
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), svc);
    EXECUTE format('ALTER ROLE %I CONNECTION LIMIT 100', svc);
  END LOOP;
END
$$;
