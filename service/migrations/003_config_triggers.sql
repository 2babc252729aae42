-- 003: configuration triggers.
--
-- updated_at follows every UPDATE, whoever makes it.
--
-- Every change to a user's configuration is announced on the channel aic_config_changed
-- with the user_id as payload, whoever makes it: the service (setUserConfig), another replica, or
-- an operator in psql (UPDATE aic_configs SET mode = 'conservative' WHERE user_id = ...).
-- Replicas LISTEN on the channel and drop that user's cached configuration. PostgreSQL delivers
-- notifications when the transaction commits (none when it rolls back) and folds identical ones
-- of one transaction into one. The payload '*' means "drop every cached configuration"
-- (NOTIFY aic_config_changed, '*' after a bulk change made with triggers disabled, say).

CREATE FUNCTION aic_configs_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('aic_config_changed', OLD.user_id);
  ELSE
    PERFORM pg_notify('aic_config_changed', NEW.user_id);
    IF TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id THEN
      PERFORM pg_notify('aic_config_changed', OLD.user_id);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER aic_configs_notify
  AFTER INSERT OR UPDATE OR DELETE ON aic_configs
  FOR EACH ROW EXECUTE FUNCTION aic_configs_notify();

CREATE FUNCTION aic_configs_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER aic_configs_touch
  BEFORE UPDATE ON aic_configs
  FOR EACH ROW EXECUTE FUNCTION aic_configs_touch();
