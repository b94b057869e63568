-- bytebase 0.2 — GitOps (3/4): a folder of migration files checked and rolled out from CI
-- (the bb CLI's `bb check` and `bb rollout`; the same file rules as the watcher, states
-- against each target database's changelog instead of a repository's history).

-- Parameters every file-set function checks the same way.
CREATE FUNCTION bb._check_file_set(paths text[], contents bytea[], targets text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF paths IS NULL OR contents IS NULL OR cardinality(paths) <> cardinality(contents) THEN
    RAISE EXCEPTION 'paths and contents must be arrays of the same length' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'One path and one content (bytea) per file.';
  END IF;
  IF cardinality(paths) > 10000 THEN
    RAISE EXCEPTION 'too many files (%)', cardinality(paths) USING ERRCODE = 'program_limit_exceeded',
      HINT = 'Check or roll out at most 10000 files at once.';
  END IF;
  IF array_position(paths, NULL) IS NOT NULL OR array_position(targets, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'paths and targets must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
END $$;
COMMENT ON FUNCTION bb._check_file_set(text[], bytea[], text[]) IS 'Raises for file-set arguments that do not fit together.';

CREATE FUNCTION bb.check_files(project text, paths text[], contents bytea[], targets text[] DEFAULT NULL)
RETURNS TABLE(file text, kind text, version text, checksum text, database text, engine text,
              environment text, state text, why text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  proj bigint;
  c record;
  dbs bigint[];
  x record;
  s record;
BEGIN
  PERFORM bb._require('bytebase_developer', 'bytebase_admin', 'bytebase_approver');
  proj := bb._project_id(bb._not_null('project', project));
  IF NOT bb._sees_project(proj) THEN
    PERFORM bb._require_project(proj, project);
  END IF;
  PERFORM bb._check_file_set(paths, contents, targets);
  FOR c IN SELECT * FROM bb._classify_files(paths, contents) cf
            ORDER BY cf.kind = 'other', cf.kind = 'repeatable', cf.vkey, cf.path LOOP
    file := c.path; kind := c.kind; version := c.version; checksum := c.checksum;
    database := NULL; engine := NULL; environment := NULL; why := NULL;
    IF c.why IS NOT NULL OR c.duplicates IS NOT NULL THEN
      state := 'ignored';
      why := coalesce(c.why, format('version %s is also the version of %s: rename one of them', c.version, c.duplicates));
      RETURN NEXT;
      CONTINUE;
    END IF;
    BEGIN
      dbs := bb._file_targets(proj, project, coalesce(c.targets, check_files.targets), c.engine);
    EXCEPTION WHEN query_canceled OR admin_shutdown THEN RAISE;
    WHEN OTHERS THEN
      state := 'ignored';
      why := 'targets: ' || bb._clip(SQLERRM, 300);
      RETURN NEXT;
      CONTINUE;
    END;
    FOR x IN SELECT d.id, i.name || '/' || d.name AS ref, i.engine AS eng, e.name AS env
               FROM bb.database d JOIN bb.instance i ON i.id = d.instance_id
               LEFT JOIN bb.environment e ON e.id = coalesce(d.environment_id, i.environment_id)
              WHERE d.id = ANY (dbs) ORDER BY e.position, i.name, d.name LOOP
      s := bb._file_state(x.id, c.kind, c.version, c.vkey, c.checksum, c.path);
      database := x.ref; engine := x.eng; environment := x.env; state := s.state; why := s.why;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
COMMENT ON FUNCTION bb.check_files(text, text[], bytea[], text[]) IS
  'What a rollout of these migration files would do, without applying: per file and target database its state from the changelog '
  '(pending, applied, modified-after-apply, out-of-order) or ignored with why; the CLI''s `bb check` (contents as bytea: any encoding is reported, not refused).';

CREATE FUNCTION bb.rollout_files(project text, paths text[], contents bytea[], targets text[] DEFAULT NULL,
                                 out_of_order boolean DEFAULT false)
RETURNS TABLE(file text, version text, issue bigint, action text, why text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  proj bigint;
  c record;
  dbs bigint[];
  todo bigint[];
  x record;
  s record;
  bad text;
  late text;
  queued bigint;
  blocked text;
BEGIN
  PERFORM bb._audit('rollout_files', jsonb_build_object('project', project, 'targets', targets,
    'out_of_order', out_of_order, 'files', paths));
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  PERFORM bb._require_project(proj, project);
  PERFORM bb._check_file_set(paths, contents, targets);
  PERFORM bb._not_null('out_of_order', out_of_order);
  FOR c IN SELECT * FROM bb._classify_files(paths, contents) cf
            ORDER BY cf.kind = 'other', cf.kind = 'repeatable', cf.vkey, cf.path LOOP
    file := c.path; version := c.version; issue := NULL; why := NULL;
    IF c.kind = 'other' THEN
      action := 'ignored'; why := c.why;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF c.why IS NOT NULL OR c.duplicates IS NOT NULL THEN
      action := 'refused';
      why := coalesce(c.why, format('version %s is also the version of %s: rename one of them', c.version, c.duplicates));
      blocked := coalesce(blocked, format('held back by %s (refused)', c.path));
      RETURN NEXT;
      CONTINUE;
    END IF;
    BEGIN
      dbs := bb._file_targets(proj, project, coalesce(c.targets, rollout_files.targets), c.engine);
    EXCEPTION WHEN query_canceled OR admin_shutdown THEN RAISE;
    WHEN OTHERS THEN
      action := 'refused'; why := 'targets: ' || bb._clip(SQLERRM, 300);
      blocked := coalesce(blocked, format('held back by %s (refused)', c.path));
      RETURN NEXT;
      CONTINUE;
    END;
    -- the file's state on each target: what is left to do, and whether anything forbids it
    todo := '{}'; bad := NULL; late := NULL; queued := NULL;
    FOR x IN SELECT d.id, i.name || '/' || d.name AS ref FROM bb.database d JOIN bb.instance i ON i.id = d.instance_id
              WHERE d.id = ANY (dbs) ORDER BY i.name, d.name LOOP
      s := bb._file_state(x.id, c.kind, c.version, c.vkey, c.checksum, c.path);
      IF s.state = 'modified-after-apply' THEN
        bad := coalesce(bad, x.ref || ': ' || s.why);
      ELSIF s.state = 'out-of-order' AND NOT out_of_order THEN
        late := coalesce(late, x.ref || ': ' || s.why);
      ELSIF s.queued_by IS NOT NULL THEN
        queued := coalesce(queued, s.queued_by);
      ELSIF s.state <> 'applied' THEN
        todo := todo || x.id;
      END IF;
    END LOOP;
    IF bad IS NOT NULL THEN
      action := 'refused'; why := bad;
      blocked := coalesce(blocked, format('held back by %s (modified after apply)', c.path));
    ELSIF late IS NOT NULL THEN
      action := 'refused'; why := late || ' (pass out_of_order => true to apply it anyway)';
    ELSIF blocked IS NOT NULL AND (cardinality(todo) > 0 OR queued IS NOT NULL) THEN
      action := 'held'; why := blocked;
    ELSIF cardinality(todo) = 0 AND queued IS NOT NULL THEN
      action := 'queued'; issue := queued; why := format('already queued by issue %s', queued);
    ELSIF cardinality(todo) = 0 THEN
      action := 'up-to-date';
    ELSE
      BEGIN
        issue := bb.apply(project, c.body, bb._database_refs(todo), c.version, c.path, out_of_order);
        action := 'created';
      EXCEPTION WHEN query_canceled OR admin_shutdown THEN RAISE;
      WHEN OTHERS THEN
        action := 'failed'; why := bb._clip(SQLERRM, 500);
        blocked := coalesce(blocked, format('held back by %s (failed)', c.path));
      END;
    END IF;
    RETURN NEXT;
  END LOOP;
END $$;
COMMENT ON FUNCTION bb.rollout_files(text, text[], bytea[], text[], boolean) IS
  'Applies the pending migration files in version order (then the repeatable ones), one issue per file for the targets where it is '
  'pending; a modified applied file, a broken or failed file holds back the files after it; per file the action: created (issue), '
  'queued (issue), up-to-date, refused, held, failed or ignored, with why. The CLI''s `bb rollout`.';
