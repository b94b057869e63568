-- bytebase 0.2 — waves: a project's deployment orders the databases of each stage into waves
--
--   SELECT bb.set_deployment('saas', $$[
--     {"wave": "canary", "match": {"labels": {"canary": "true"}}, "parallel": 1,  "on_error": "stop"},
--     {"wave": "eu",     "match": {"labels": {"region": "eu"}},   "parallel": 16, "on_error": "continue"},
--     {"wave": "rest",                                            "parallel": 32, "on_error": {"stop_after_failed_percent": 5}}
--   ]$$);
--
-- A database goes to the first wave whose match it satisfies (labels contain match.labels, name
-- matches match.name_pattern; no match = every database); databases matching no wave go to a
-- last wave "default" (no parallel cap, on_error continue).  Within a stage a wave starts when
-- the waves before it have no task waiting or running; it runs at most `parallel` tasks at once;
-- on_error "stop": a failed task stops the issue (no further task starts, running ones finish,
-- bb.retry resumes), "continue": the next wave goes on, {"stop_after_failed_percent": p}: stops
-- once p % of the wave's databases failed.  Missing on_error means "stop".  The deployment in
-- force is copied into the issue when bb.apply plans it (bb.issue.deployment, bb.stage_wave).

-- Raises a clear error for a deployment that cannot work; NULL or [] means "no waves".
CREATE FUNCTION bb._check_deployment(waves jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE w jsonb; n int := 0; k text; names text[] := '{}'; nm text; oe jsonb; pct jsonb;
BEGIN
  IF waves IS NULL THEN RETURN; END IF;
  IF jsonb_typeof(waves) <> 'array' THEN
    RAISE EXCEPTION 'deployment must be a JSON array of waves' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example ''[{"wave": "canary", "match": {"labels": {"canary": "true"}}, "parallel": 1, "on_error": "stop"}, {"wave": "rest", "parallel": 16}]''.';
  END IF;
  FOR w IN SELECT e FROM jsonb_array_elements(waves) e LOOP
    n := n + 1;
    IF jsonb_typeof(w) <> 'object' THEN
      RAISE EXCEPTION 'wave % of the deployment is not a JSON object', n USING ERRCODE = 'invalid_parameter_value',
        HINT = 'A wave is {"wave": name, "match": {...}, "parallel": n, "on_error": ...}.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(w) LOOP
      IF k NOT IN ('wave', 'match', 'parallel', 'on_error') THEN
        RAISE EXCEPTION 'unknown key "%" in wave %', bb._clip(k), n USING ERRCODE = 'invalid_parameter_value',
          HINT = 'A wave takes the keys wave, match, parallel and on_error.';
      END IF;
    END LOOP;
    IF jsonb_typeof(w->'wave') IS DISTINCT FROM 'string' THEN
      RAISE EXCEPTION 'wave % has no name', n USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Name each wave: {"wave": "canary", ...}.';
    END IF;
    nm := bb._check_name('wave', w->>'wave');
    IF nm = ANY (names) OR nm = 'default' THEN
      RAISE EXCEPTION 'wave name "%" is used twice or reserved', nm USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Wave names are unique within a deployment; "default" names the wave of the databases no wave matches.';
    END IF;
    names := names || nm;
    IF NOT w ? 'parallel' THEN
      RAISE EXCEPTION 'wave "%" has no parallel', nm USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Give each wave the most tasks it may run at once: "parallel": 16.';
    END IF;
    IF (CASE WHEN jsonb_typeof(w->'parallel') <> 'number' THEN true
             ELSE (w->>'parallel')::numeric <> trunc((w->>'parallel')::numeric)
                  OR (w->>'parallel')::numeric NOT BETWEEN 1 AND 100000 END) THEN
      RAISE EXCEPTION 'parallel of wave "%" must be a whole number from 1 to 100000, not %', nm, bb._clip(w->>'parallel')
        USING ERRCODE = 'invalid_parameter_value', HINT = 'For example "parallel": 16.';
    END IF;
    IF w ? 'match' THEN
      IF jsonb_typeof(w->'match') <> 'object' THEN
        RAISE EXCEPTION 'match of wave "%" must be a JSON object', nm USING ERRCODE = 'invalid_parameter_value',
          HINT = 'For example "match": {"labels": {"region": "eu"}} or {"name_pattern": "^t_eu"}.';
      END IF;
      FOR k IN SELECT jsonb_object_keys(w->'match') LOOP
        IF k NOT IN ('labels', 'name_pattern') THEN
          RAISE EXCEPTION 'unknown key "%" in the match of wave "%"', bb._clip(k), nm USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A match takes labels (a JSON object the database''s labels must contain) and name_pattern (a regular expression).';
        END IF;
      END LOOP;
      IF w->'match' ? 'name_pattern' AND jsonb_typeof(w->'match'->'name_pattern') <> 'string' THEN
        RAISE EXCEPTION 'name_pattern of wave "%" must be a string', nm USING ERRCODE = 'invalid_parameter_value';
      END IF;
      PERFORM bb._check_group_condition(coalesce(w->'match'->'labels', '{}'), w->'match'->>'name_pattern');
    END IF;
    oe := w->'on_error';
    IF oe IS NOT NULL AND NOT (oe IN ('"stop"', '"continue"')
                               OR (jsonb_typeof(oe) = 'object' AND (SELECT array_agg(x) FROM jsonb_object_keys(oe) x) = '{stop_after_failed_percent}')) THEN
      RAISE EXCEPTION 'unknown on_error % of wave "%"', bb._clip(oe::text), nm USING ERRCODE = 'invalid_parameter_value',
        HINT = 'on_error is "stop", "continue" or {"stop_after_failed_percent": 5}.';
    END IF;
    pct := oe->'stop_after_failed_percent';
    IF jsonb_typeof(oe) = 'object' AND (CASE WHEN jsonb_typeof(pct) <> 'number' THEN true
                                             ELSE (pct::text)::numeric NOT BETWEEN 0 AND 100 END) THEN
      RAISE EXCEPTION 'stop_after_failed_percent of wave "%" must be a number from 0 to 100', nm
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END LOOP;
END $$;
COMMENT ON FUNCTION bb._check_deployment(jsonb) IS 'Raises a clear error for a deployment (waves) that cannot work.';

CREATE FUNCTION bb.set_deployment(project text, waves jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint; w jsonb; nm text;
BEGIN
  PERFORM bb._audit('set_deployment', jsonb_build_object('project', project, 'waves', waves));
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  PERFORM bb._check_deployment(waves);
  IF waves = '[]'::jsonb THEN waves := NULL; END IF;
  UPDATE bb.project p SET deployment = waves WHERE p.id = proj;
  -- a wave that matches none of the project's databases is allowed (it shows as empty): say so
  FOR w IN SELECT e FROM jsonb_array_elements(coalesce(waves, '[]')) e WHERE e ? 'match' LOOP
    nm := w->>'wave';
    IF NOT EXISTS (SELECT 1 FROM bb.database x WHERE x.project_id = proj AND x.vanished_at IS NULL
                      AND x.labels @> coalesce(w->'match'->'labels', '{}')
                      AND (NOT (w->'match' ? 'name_pattern') OR x.name ~ (w->'match'->>'name_pattern'))) THEN
      RAISE NOTICE 'wave "%" matches no database of project "%" yet', nm, project
        USING HINT = 'See bb.databases for the labels and names of the project''s databases.';
    END IF;
  END LOOP;
END $$;
COMMENT ON FUNCTION bb.set_deployment(text, jsonb) IS
  'Sets (NULL or [] clears) the waves a project''s changes roll out in within each stage: match, parallel, on_error (stop, continue, {"stop_after_failed_percent": p}).';

-- The wave a database goes to under a deployment: the first whose match it satisfies, else the
-- default wave after the configured ones.
CREATE FUNCTION bb._wave_of(deployment jsonb, labels jsonb, name text) RETURNS int
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(
    (SELECT w.n::int FROM jsonb_array_elements(deployment) WITH ORDINALITY w(e, n)
      WHERE NOT (w.e ? 'match')
         OR (labels @> coalesce(w.e->'match'->'labels', '{}')
             AND (NOT (w.e->'match' ? 'name_pattern') OR name ~ (w.e->'match'->>'name_pattern')))
      ORDER BY w.n LIMIT 1),
    coalesce(jsonb_array_length(deployment), 0) + 1)
$$;
COMMENT ON FUNCTION bb._wave_of(jsonb, jsonb, text) IS 'Position of the wave a database (labels, name) goes to under a deployment.';

-- Freezes the waves of every stage of a planned issue (sizes from its tasks).
CREATE FUNCTION bb._plan_waves(issue bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO bb.stage_wave (stage_id, wave, name, parallel, on_error, stop_after_failed_percent, size)
  SELECT s.id, w.n, w.e->>'wave', (w.e->>'parallel')::int,
         CASE WHEN jsonb_typeof(w.e->'on_error') = 'object' THEN 'threshold' ELSE coalesce(w.e->>'on_error', 'stop') END,
         (w.e->'on_error'->>'stop_after_failed_percent')::numeric,
         (SELECT count(*) FROM bb.task t WHERE t.stage_id = s.id AND t.wave = w.n)
    FROM bb.issue i JOIN bb.stage s ON s.issue_id = i.id
    CROSS JOIN LATERAL jsonb_array_elements(coalesce(i.deployment, '[]')) WITH ORDINALITY w(e, n)
   WHERE i.id = issue
  UNION ALL
  SELECT s.id, d.n, CASE WHEN i.deployment IS NULL THEN 'all' ELSE 'default' END, NULL, 'continue', NULL, d.size
    FROM bb.issue i JOIN bb.stage s ON s.issue_id = i.id
    CROSS JOIN LATERAL (SELECT coalesce(jsonb_array_length(i.deployment), 0) + 1 AS n) dn
    CROSS JOIN LATERAL (SELECT dn.n, count(*)::int AS size FROM bb.task t WHERE t.stage_id = s.id AND t.wave = dn.n) d
   WHERE i.id = issue AND (d.size > 0 OR i.deployment IS NULL)
$$;
COMMENT ON FUNCTION bb._plan_waves(bigint) IS 'Copies the issue''s deployment into bb.stage_wave for each of its stages, with the number of databases in each wave.';

-- Why an issue stopped: the first wave whose on_error policy its failures tripped, or NULL.
CREATE FUNCTION bb._issue_stop_reason(issue bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT format('wave %s stopped the rollout: %s of %s failed (on_error %s)', w.name, f.n, w.size,
                CASE w.on_error WHEN 'stop' THEN 'stop'
                     ELSE format('stop_after_failed_percent %s', w.stop_after_failed_percent) END)
    FROM bb.stage s JOIN bb.stage_wave w ON w.stage_id = s.id
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM bb.task f
                         WHERE f.stage_id = w.stage_id AND f.wave = w.wave AND f.status = 'failed') f
   WHERE s.issue_id = issue AND w.on_error <> 'continue' AND f.n > 0
     AND (w.on_error = 'stop' OR f.n * 100 >= w.stop_after_failed_percent * w.size)
   ORDER BY s.position, w.wave LIMIT 1
$$;
COMMENT ON FUNCTION bb._issue_stop_reason(bigint) IS
  'The on_error policy that stopped the issue (a wave''s failures), or NULL: no further task of a stopped issue starts until bb.retry.';
