-- bytebase 0.2 — the audit log: bb._audit (called first thing by every state-changing API
-- function), the append-only guard of bb.audit_entry and the view bb.audit_log.
--
-- A successful call's row is written by bb._audit in the caller's transaction (outcome ok).
-- A call that fails takes that row down with its (sub)transaction; the C side (src/audit.c)
-- has remembered the call, captures its error as it leaves the API function and queues the
-- entry in shared memory; the launcher writes it (outcome error) right after the abort.  A call
-- that returned but whose transaction rolled back later is recorded as rolled_back.

-- Arguments as stored: a JSON object, every value cut to 2000 characters, and any key that
-- names a secret redacted even if a caller forgot to.
CREATE FUNCTION bb._audit_arguments(arguments jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(jsonb_object_agg(e.key,
           CASE WHEN e.key ~* '(password|secret|private_key)' AND e.value <> 'null'::jsonb
                  THEN '"<redacted>"'::jsonb
                WHEN length(e.value::text) > 2000
                  THEN to_jsonb(left(CASE WHEN jsonb_typeof(e.value) = 'string' THEN e.value #>> '{}'
                                          ELSE e.value::text END, 2000) || '...')
                ELSE e.value END), '{}'::jsonb)
    FROM jsonb_each(CASE WHEN arguments IS NULL THEN '{}'::jsonb
                         WHEN jsonb_typeof(arguments) = 'object' THEN arguments
                         ELSE jsonb_build_object('value', arguments) END) e
$$;
COMMENT ON FUNCTION bb._audit_arguments(jsonb) IS
  'Audit arguments as stored: a JSON object, values clipped to 2000 characters, keys naming a password, secret or private key redacted.';

CREATE FUNCTION bb._audit(function text, arguments jsonb) RETURNS void
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_audit';
COMMENT ON FUNCTION bb._audit(text, jsonb) IS
  'Records an API call (function, arguments with secrets redacted by the caller) as the session user: '
  'an ok row now, in the caller''s transaction; if the call fails or its transaction rolls back, the launcher records that outcome instead.';
-- only the API functions (SECURITY DEFINER, run as the extension owner) write the log
REVOKE ALL ON FUNCTION bb._audit(text, jsonb) FROM PUBLIC;

-- Append-only: the grants give nobody UPDATE, DELETE or TRUNCATE; this guard also stops a
-- role that was granted them by mistake (superusers may still prune old entries).
CREATE FUNCTION bb._audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT bb._is_superuser() THEN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege',
      DETAIL = format('%s on bb.audit_entry is refused.', TG_OP),
      HINT = 'Audit entries are never changed; only a superuser may remove old ones.';
  END IF;
  RETURN NULL;
END $$;
COMMENT ON FUNCTION bb._audit_append_only() IS
  'Statement trigger of bb.audit_entry: refuses UPDATE, DELETE and TRUNCATE to everyone but superusers.';

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON bb.audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION bb._audit_append_only();
COMMENT ON TRIGGER audit_append_only ON bb.audit_entry IS 'Keeps the audit log append-only.';

CREATE VIEW bb.audit_log WITH (security_invoker = true) AS
  SELECT a.id, a.at, a.who, a."function", a.arguments, a.outcome, a.sqlstate, a.error
    FROM bb.audit_entry a
   ORDER BY a.at, a.id;
COMMENT ON VIEW bb.audit_log IS
  'Every state-changing API call: when, who (the session user), function, arguments (secrets redacted), '
  'outcome (ok, error with its SQLSTATE and message, or rolled_back: it returned but its transaction did not commit). Admins only.';
