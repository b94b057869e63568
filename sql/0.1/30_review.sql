-- bytebase 0.1 — SQL review: rule catalog, per-environment policy, bb.lint

CREATE FUNCTION bb._review_rules()
RETURNS TABLE(id text, engines text[], category text, description text,
              basic_level text, strict_level text, payload text, default_payload jsonb)
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'bb_review_rules';
COMMENT ON FUNCTION bb._review_rules() IS 'Every review rule linked into the extension (C rule tables of all engines).';

CREATE VIEW bb.review_rules AS
  SELECT id, engines, category, description, basic_level, strict_level, payload, default_payload
    FROM bb._review_rules()
   ORDER BY category, id;
COMMENT ON VIEW bb.review_rules IS
  'SQL review rules: id, engines, category, description, default level in the basic template (non-protected environments) and the strict one (protected), payload shape and default payload.';
GRANT SELECT ON bb.review_rules TO bytebase_admin, bytebase_approver, bytebase_developer;

CREATE TABLE bb.review_policy (
  environment_id bigint NOT NULL REFERENCES bb.environment ON DELETE CASCADE,
  rule           text NOT NULL,
  level          text NOT NULL CHECK (level IN ('error', 'warning', 'off')),
  payload        jsonb CHECK (payload IS NULL OR jsonb_typeof(payload) = 'object'),
  updated_by     name NOT NULL DEFAULT bb._caller(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (environment_id, rule)
);
COMMENT ON TABLE bb.review_policy IS
  'Review rules set explicitly for an environment; a rule without a row has its template level (strict when the environment is protected, basic otherwise).';
SELECT pg_catalog.pg_extension_config_dump('bb.review_policy', '');

CREATE FUNCTION bb._review_validate(rule text, level text, payload jsonb) RETURNS void
LANGUAGE c AS 'MODULE_PATHNAME', 'bb_review_validate';
COMMENT ON FUNCTION bb._review_validate(text, text, jsonb) IS
  'Raises a clear error for an unknown rule, a bad level or a payload the rule does not accept.';

CREATE FUNCTION bb.set_review_rule(environment text, rule text, level text, payload jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
DECLARE env bigint;
BEGIN
  PERFORM bb._require('bytebase_admin');
  env := bb._environment_id(bb._not_null('environment', environment));
  PERFORM bb._review_validate(rule, level, payload);
  INSERT INTO bb.review_policy AS p (environment_id, rule, level, payload, updated_by)
  VALUES (env, rule, level, payload, bb._caller())
  ON CONFLICT ON CONSTRAINT review_policy_pkey DO UPDATE
     SET level = EXCLUDED.level, payload = EXCLUDED.payload,
         updated_by = EXCLUDED.updated_by, updated_at = now();
END $$;
COMMENT ON FUNCTION bb.set_review_rule(text, text, text, jsonb) IS
  'Sets a review rule''s level (error, warning, off) and payload for an environment.';

CREATE VIEW bb.review_policies AS
  SELECT e.name AS environment, e.protected, r.id AS rule, r.category,
         coalesce(p.level, CASE WHEN e.protected THEN r.strict_level ELSE r.basic_level END) AS level,
         coalesce(p.payload, r.default_payload) AS payload,
         p.rule IS NOT NULL AS explicit
    FROM bb.environment e
   CROSS JOIN bb.review_rules r
    LEFT JOIN bb.review_policy p ON p.environment_id = e.id AND p.rule = r.id
   ORDER BY e.position, r.category, r.id;
COMMENT ON VIEW bb.review_policies IS
  'Effective review level and payload of every rule in every environment (explicit row or template default).';
GRANT SELECT ON bb.review_policies TO bytebase_admin, bytebase_approver, bytebase_developer;

CREATE FUNCTION bb._lint(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text)
LANGUAGE c AS 'MODULE_PATHNAME', 'bb_lint';
COMMENT ON FUNCTION bb._lint(text, text, text) IS 'C side of bb.lint (no role check: not granted).';

CREATE FUNCTION bb.lint(statement text, engine text DEFAULT 'postgres', environment text DEFAULT NULL)
RETURNS TABLE(line int, rule text, level text, message text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin', 'bytebase_approver');
  RETURN QUERY SELECT * FROM bb._lint(statement, engine, environment);
END $$;
COMMENT ON FUNCTION bb.lint(text, text, text) IS
  'SQL review of a script: findings (line, rule, level, message) ordered by line; with an environment its policy applies, else the basic template.';

REVOKE ALL ON FUNCTION bb._review_validate(text, text, jsonb),
                       bb._lint(text, text, text) FROM PUBLIC;

CREATE FUNCTION bb._split(statement text, engine text)
RETURNS TABLE(line int, col int, sql text, error text)
LANGUAGE c AS 'MODULE_PATHNAME', 'bb_split_statements';
COMMENT ON FUNCTION bb._split(text, text) IS 'C side of bb.split_statements.';

CREATE FUNCTION bb.split_statements(statement text, engine text DEFAULT 'postgres')
RETURNS TABLE(line int, col int, sql text, error text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = bb, pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin', 'bytebase_approver');
  RETURN QUERY SELECT * FROM bb._split(statement, engine);
END $$;
COMMENT ON FUNCTION bb.split_statements(text, text) IS
  'The statements of a script as the review splits them: 1-based line and column (bytes) of each first token, its text (sql) without the terminator, and the splitter error (unterminated quote/comment, bad DELIMITER) if any.';
REVOKE ALL ON FUNCTION bb._split(text, text) FROM PUBLIC;
