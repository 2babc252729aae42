-- 002: users see only their own rows, enforced by PostgreSQL's row-level security.
--
-- Two roles, both NOLOGIN (nobody connects as them; the service's own login role switches to
-- them per transaction with SET LOCAL ROLE, see service/src/store/with-user.ts):
--   aic_app     user-scoped work (HTTP handlers). Every policy compares the row's user_id with
--               current_setting('aic.user_id', true), which withUser() sets for the transaction
--               only (set_config(..., true)); unset it is NULL or '', which matches no row.
--   aic_system  the service's own background work: the batched writer of metrics and sessions,
--               the retention sweep, model-performance windows, raising alerts. Never used for a
--               request made on a user's behalf.
-- The tables' owner (the login role that ran these migrations) gets no policy of its own, and
-- FORCE ROW LEVEL SECURITY makes the owner subject to policies: connected as the owner without a
-- role switch, a query sees and changes no row. The owner is a member of both roles (it must be,
-- to SET ROLE to them), and a policy TO a role also applies to the members that inherit it, which
-- would hand the owner aic_system's see-everything policy. So every policy also requires
-- current_user (the role in effect after SET ROLE) to be its role itself. (PostgreSQL 16 could
-- grant the membership WITH INHERIT FALSE instead; this works from 15 on, whatever the grant.) A superuser bypasses row-level security whatever is
-- forced (PGlite runs as one), which is why the role switch, not the login, is what makes the
-- policies hold.
--
-- aic_model_performance holds system-wide rows (per model and window, across all users, no user
-- id or session id in them). Decision: any user-scoped transaction may read them (they are what a
-- status page shows: model latency, ratio, quality, success and fallback counts), only aic_system
-- writes them.
-- aic_alerts: a user reads, and may resolve, the alerts raised for that user; system-wide alerts
-- (user_id NULL) are for operators (aic_system) only; only aic_system raises alerts.
--
-- Roles belong to the whole cluster: they are made only when absent (another database's migration
-- may be making them at the same moment, hence the exception handler). The migrating role must be
-- able to switch to them: it is granted membership when it lacks it, which needs CREATEROLE (or,
-- from PostgreSQL 16, ADMIN OPTION on the role). Where the service's login may not do that, a DBA
-- runs once:  CREATE ROLE aic_app NOLOGIN; CREATE ROLE aic_system NOLOGIN;
--             GRANT aic_app, aic_system TO <service login>;

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['aic_app', 'aic_system'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- made meanwhile by a migration of another database of this cluster
      END;
    END IF;
    IF NOT pg_has_role(current_user, r, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', r, current_user);
      EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'role % exists but % may not switch to it and cannot grant itself membership', r, current_user
          USING HINT = format('as a superuser or the role''s admin: GRANT %I TO %I', r, current_user);
      END;
    END IF;
  END LOOP;
END
$$;

-- Privileges (what a role may try); the policies below decide which rows.
GRANT SELECT, INSERT, UPDATE, DELETE ON aic_configs, aic_sessions, aic_metrics TO aic_app;
GRANT SELECT ON aic_alerts, aic_model_performance TO aic_app;
GRANT UPDATE (resolved_at) ON aic_alerts TO aic_app;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON aic_configs, aic_sessions, aic_metrics, aic_model_performance, aic_alerts TO aic_system;

ALTER TABLE aic_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE aic_configs FORCE ROW LEVEL SECURITY;
ALTER TABLE aic_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE aic_sessions FORCE ROW LEVEL SECURITY;
ALTER TABLE aic_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE aic_metrics FORCE ROW LEVEL SECURITY;
ALTER TABLE aic_model_performance ENABLE ROW LEVEL SECURITY;
ALTER TABLE aic_model_performance FORCE ROW LEVEL SECURITY;
ALTER TABLE aic_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE aic_alerts FORCE ROW LEVEL SECURITY;

-- A user's own rows: read, change and delete them, and insert only rows that are theirs
-- (WITH CHECK: a row for another user_id fails with "violates row-level security policy").
CREATE POLICY aic_configs_own ON aic_configs FOR ALL TO aic_app
  USING (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true))
  WITH CHECK (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true));
CREATE POLICY aic_sessions_own ON aic_sessions FOR ALL TO aic_app
  USING (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true))
  WITH CHECK (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true));
CREATE POLICY aic_metrics_own ON aic_metrics FOR ALL TO aic_app
  USING (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true))
  WITH CHECK (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true));
CREATE POLICY aic_alerts_own_read ON aic_alerts FOR SELECT TO aic_app
  USING (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true));
CREATE POLICY aic_alerts_own_resolve ON aic_alerts FOR UPDATE TO aic_app
  USING (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true))
  WITH CHECK (current_user = 'aic_app' AND user_id = current_setting('aic.user_id', true));
CREATE POLICY aic_model_performance_read ON aic_model_performance FOR SELECT TO aic_app
  USING (current_user = 'aic_app');

-- The service's background work sees every row.
CREATE POLICY aic_configs_system ON aic_configs FOR ALL TO aic_system
  USING (current_user = 'aic_system') WITH CHECK (current_user = 'aic_system');
CREATE POLICY aic_sessions_system ON aic_sessions FOR ALL TO aic_system
  USING (current_user = 'aic_system') WITH CHECK (current_user = 'aic_system');
CREATE POLICY aic_metrics_system ON aic_metrics FOR ALL TO aic_system
  USING (current_user = 'aic_system') WITH CHECK (current_user = 'aic_system');
CREATE POLICY aic_model_performance_system ON aic_model_performance FOR ALL TO aic_system
  USING (current_user = 'aic_system') WITH CHECK (current_user = 'aic_system');
CREATE POLICY aic_alerts_system ON aic_alerts FOR ALL TO aic_system
  USING (current_user = 'aic_system') WITH CHECK (current_user = 'aic_system');
