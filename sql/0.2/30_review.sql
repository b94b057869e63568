-- bytebase 0.2 — SQL review: rule catalog, per-environment policy and options, bb.lint

CREATE FUNCTION bb._review_rules()
RETURNS TABLE(id text, engines text[], category text, description text,
              basic_level text, strict_level text, payload text, default_payload jsonb)
LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_review_rules';
COMMENT ON FUNCTION bb._review_rules() IS 'Every review rule linked into the extension (C rule tables of all engines).';

CREATE VIEW bb.review_rules AS
  SELECT id, engines, category, description, basic_level, strict_level, payload, default_payload
    FROM bb._review_rules()
   ORDER BY category, id;
COMMENT ON VIEW bb.review_rules IS
  'SQL review rules: id, engines, category, description, default level in the basic template (non-protected environments) and the strict one (protected), payload shape and default payload.';

CREATE FUNCTION bb._review_validate(rule text, level text, payload jsonb) RETURNS void
LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_review_validate';
COMMENT ON FUNCTION bb._review_validate(text, text, jsonb) IS
  'Raises a clear error for an unknown rule, a bad level or a payload the rule does not accept (unsafe patterns included).';

CREATE FUNCTION bb.set_review_rule(environment text, rule text, level text, payload jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE env bigint;
BEGIN
  PERFORM bb._audit('set_review_rule', jsonb_build_object('environment', environment, 'rule', rule,
    'level', level, 'payload', payload));
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

---------------------------------------------------------------------------
-- Review options per environment
---------------------------------------------------------------------------

-- Defaults: suppressions are honoured in unprotected environments only; dry runs are off.
CREATE FUNCTION bb._review_option(environment_id bigint, option text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(
    (SELECT o.value FROM bb.review_option o WHERE o.environment_id = _review_option.environment_id
                                              AND o.option = _review_option.option),
    CASE option WHEN 'allow_suppressions' THEN NOT e.protected ELSE false END)
    FROM bb.environment e WHERE e.id = _review_option.environment_id
$$;
COMMENT ON FUNCTION bb._review_option(bigint, text) IS
  'Effective value of a review option in an environment (explicit row or default).';

CREATE FUNCTION bb.set_review_option(environment text, option text, value boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE env bb.environment;
BEGIN
  PERFORM bb._audit('set_review_option', jsonb_build_object('environment', environment, 'option', option, 'value', value));
  PERFORM bb._require('bytebase_admin');
  SELECT * INTO env FROM bb.environment e WHERE e.id = bb._environment_id(bb._not_null('environment', environment));
  IF option IS NULL OR option NOT IN ('allow_suppressions', 'dry_run') THEN
    RAISE EXCEPTION 'unknown review option "%"', bb._clip(option) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Options: allow_suppressions (honour "-- bb:ignore rule" of error findings), dry_run (run changes in a rolled-back transaction on unprotected PostgreSQL targets before rollout).';
  END IF;
  PERFORM bb._not_null('value', value);
  IF option = 'dry_run' AND value AND env.protected THEN
    RAISE EXCEPTION 'dry runs cannot be enabled in protected environment "%"', env.name
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'A dry run executes the unapproved change on the target: nothing unapproved runs on a protected target.',
            HINT = 'Dry runs belong to unprotected environments (dev, staging), which a change passes before it reaches prod.';
  END IF;
  INSERT INTO bb.review_option AS o (environment_id, option, value, updated_by)
  VALUES (env.id, option, value, bb._caller())
  ON CONFLICT ON CONSTRAINT review_option_pkey DO UPDATE
     SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now();
END $$;
COMMENT ON FUNCTION bb.set_review_option(text, text, boolean) IS
  'Sets a review option of an environment: allow_suppressions (default: on in unprotected environments, off in protected ones), dry_run (default off; never in protected environments).';

CREATE VIEW bb.review_options AS
  SELECT e.name AS environment, e.protected, o.option,
         bb._review_option(e.id, o.option) AS value,
         EXISTS (SELECT 1 FROM bb.review_option x WHERE x.environment_id = e.id AND x.option = o.option) AS explicit
    FROM bb.environment e CROSS JOIN (VALUES ('allow_suppressions'), ('dry_run')) o(option)
   ORDER BY e.position, o.option;
COMMENT ON VIEW bb.review_options IS 'Effective review options of every environment (explicit row or default).';

---------------------------------------------------------------------------
-- Lint and split
---------------------------------------------------------------------------

CREATE FUNCTION bb._lint(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text)
LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_lint';
COMMENT ON FUNCTION bb._lint(text, text, text) IS 'C side of bb.lint (no role check: not granted).';

CREATE FUNCTION bb.lint(statement text, engine text DEFAULT 'postgres', environment text DEFAULT NULL)
RETURNS TABLE(line int, rule text, level text, message text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin', 'bytebase_approver');
  -- a suppression the environment does not allow leaves its finding in place, saying so
  RETURN QUERY
    SELECT r.line, r.rule, r.level,
           CASE WHEN r.suppression = 'refused'
                THEN r.message || format(' (bb:ignore refused: environment "%s" does not allow suppressions)', environment)
                ELSE r.message END
      FROM bb._review(statement, engine, environment) r
     WHERE r.suppression IS DISTINCT FROM 'honoured';
END $$;
COMMENT ON FUNCTION bb.lint(text, text, text) IS
  'SQL review of a script: findings (line, rule, level, message) ordered by line; with an environment its policy applies, else the basic template.';

-- Every finding, those a "-- bb:ignore" comment covers marked suppressed (C).
CREATE FUNCTION bb._lint_all(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppressed boolean)
LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_lint_all';
COMMENT ON FUNCTION bb._lint_all(text, text, text) IS
  'C side of bb._review: every finding of the review, the suppressed ones marked.';

-- The review as the plan checks and bb.lint use it: a suppression is honoured where the
-- environment allows suppressions (allow_suppressions; the basic template allows them), else
-- refused and its finding counts.
CREATE FUNCTION bb._review(statement text, engine text, environment text)
RETURNS TABLE(line int, rule text, level text, message text, suppression text)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  SELECT l.line, l.rule, l.level, l.message,
         CASE WHEN l.suppressed THEN
           CASE WHEN coalesce((SELECT bb._review_option(e.id, 'allow_suppressions')
                                 FROM bb.environment e WHERE e.name = _review.environment), true)
                THEN 'honoured' ELSE 'refused' END
         END
    FROM bb._lint_all(statement, engine, environment) l
$$;
COMMENT ON FUNCTION bb._review(text, text, text) IS
  'The review of a script under an environment''s policy: every finding with its suppression (honoured where the environment allows suppressions, else refused).';

CREATE FUNCTION bb._split(statement text, engine text)
RETURNS TABLE(line int, col int, sql text, error text)
LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_split_statements';
COMMENT ON FUNCTION bb._split(text, text) IS 'C side of bb.split_statements.';

CREATE FUNCTION bb.split_statements(statement text, engine text DEFAULT 'postgres')
RETURNS TABLE(line int, col int, sql text, error text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin', 'bytebase_approver');
  RETURN QUERY SELECT * FROM bb._split(statement, engine);
END $$;
COMMENT ON FUNCTION bb.split_statements(text, text) IS
  'The statements of a script as the review splits them: 1-based line and column (bytes) of each first token, its text (sql) without the terminator, and the splitter error (unterminated quote/comment, bad DELIMITER) if any.';

REVOKE ALL ON FUNCTION bb._review_validate(text, text, jsonb), bb._lint(text, text, text),
                       bb._review(text, text, text), bb._lint_all(text, text, text),
                       bb._split(text, text) FROM PUBLIC;

-- NULL when the splitter is certain how the engine cuts the script into statements; else the
-- line and the reason (PostgreSQL: compared with the server's own scanner; MySQL: versioned
-- comments and the like).  Volatile: it sets two settings for its own parse.
CREATE FUNCTION bb._split_check(statement text, engine text) RETURNS text
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_split_check';
COMMENT ON FUNCTION bb._split_check(text, text) IS
  'NULL when the splitter is certain how the engine cuts the script into statements, else the line and why not.';

-- What is executed must be exactly what was reviewed: a script whose split is uncertain for
-- one of the target engines is refused.
CREATE FUNCTION bb._check_split(statement text, engines text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE e text; why text;
BEGIN
  FOREACH e IN ARRAY engines LOOP
    why := bb._split_check(statement, e);
    IF why IS NOT NULL THEN
      RAISE EXCEPTION 'the script cannot be split into statements with certainty for engine %', e
        USING ERRCODE = 'syntax_error', DETAIL = why,
              HINT = 'Rewrite the part named in the detail so that every statement is unambiguous (see bb.split_statements()).';
    END IF;
  END LOOP;
END $$;
COMMENT ON FUNCTION bb._check_split(text, text[]) IS
  'Refuses a script whose statement boundaries the splitter cannot vouch for on one of the engines.';
