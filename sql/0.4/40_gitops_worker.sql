-- bytebase 0.4 — GitOps (2/2): what the gitops worker does with a fetch
--
-- The worker (src/gitops/gitops_worker.c) asks bb._gitops_due() what to fetch, runs the
-- libgit2 helper outside any transaction, then records the result in one short transaction:
-- bb._gitops_record (the files at the branch head) or bb._gitops_failed (why the fetch failed).
-- bb._gitops_record decides, file by file in version order, what becomes an issue:
--   * a new versioned file becomes an issue (bb.apply as the role that added the repository),
--     unless its version sorts below one this repository already dispatched (out-of-order, not
--     applied unless allow_out_of_order) or an earlier problem holds it back (block_on_error);
--   * a dispatched file whose content changed is modified-after-apply: never applied again,
--     reported with both checksums, and (block_on_error) holds back every later version;
--   * a repeatable file becomes an issue whenever its content differs from the one dispatched last;
--   * a file that cannot be used (name, encoding, empty, header, same version as another) is
--     ignored with the reason; a broken versioned one holds back later versions (block_on_error);
--   * a dispatched file deleted from the branch is reported (deleted), nothing is reverted.

-- Name of a repository's working copy under bytebase.git_directory: a new repository (also one
-- that reuses an id after the extension was recreated) never finds another one's clone.
CREATE FUNCTION bb._gitops_workdir(r bb.repository) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'r' || r.id || '-' || left(md5(r.url || E'\n' || r.branch || E'\n' || extract(epoch FROM r.created_at)::text), 12)
$$;
COMMENT ON FUNCTION bb._gitops_workdir(bb.repository) IS 'Directory name of a repository''s working copy (bare clone).';

-- What the worker fetches now: enabled repositories whose poll is due and the requested ones,
-- with the token of https repositories (this function is the extension owner's only).
-- quick: a poll of a repository in good standing; the helper then skips the files when the
-- branch has not moved (bb._gitops_record would not look at them).
CREATE FUNCTION bb._gitops_due(requested bigint[])
RETURNS TABLE(id bigint, url text, branch text, path text, last_commit text, workdir text,
              username text, token text, requested boolean, quick boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT r.id, r.url, r.branch, r.path, r.last_commit, bb._gitops_workdir(r),
         (SELECT o.option_value FROM pg_catalog.pg_options_to_table(um.umoptions) o WHERE o.option_name = 'user'),
         (SELECT o.option_value FROM pg_catalog.pg_options_to_table(um.umoptions) o WHERE o.option_name = 'password'),
         r.id = ANY (requested),
         NOT r.id = ANY (requested) AND r.last_error IS NULL AND r.last_commit IS NOT NULL
    FROM bb.repository r
    LEFT JOIN pg_catalog.pg_foreign_server s ON s.srvname = r.server_name
    LEFT JOIN pg_catalog.pg_user_mapping um ON um.umserver = s.oid AND um.umuser = 0
   WHERE (r.enabled AND r.next_fetch_at <= now()) OR r.id = ANY (requested)
   ORDER BY r.id = ANY (requested) DESC, r.next_fetch_at
$$;
COMMENT ON FUNCTION bb._gitops_due(bigint[]) IS
  'Worker: repositories to fetch now (poll due, or requested by bb.sync_repository), with their working copy and token, and whether the files can be skipped when the branch has not moved.';

CREATE FUNCTION bb._gitops_next_due() RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT min(r.next_fetch_at) FROM bb.repository r WHERE r.enabled
$$;
COMMENT ON FUNCTION bb._gitops_next_due() IS 'Worker: when the next poll is due (NULL: no enabled repository).';

CREATE FUNCTION bb._gitops_workdirs() RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT bb._gitops_workdir(r) FROM bb.repository r
$$;
COMMENT ON FUNCTION bb._gitops_workdirs() IS 'Worker: the working copies in use (the others are removed).';

-- A fetch failed: the error is kept, the next attempt backs off (poll, doubling, at most
-- 5 minutes or the poll interval); a sync row when asked for or when the error is new.
CREATE FUNCTION bb._gitops_failed(repository bigint, trigger text, started_at timestamptz,
                                  error text, error_code text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.repository; sid bigint;
BEGIN
  SELECT * INTO r FROM bb.repository x WHERE x.id = _gitops_failed.repository FOR UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  IF trigger = 'request' OR r.last_error IS DISTINCT FROM error THEN
    INSERT INTO bb.repository_sync (repository_id, trigger, started_at, finished_at, commit_before, error, error_code)
    VALUES (r.id, trigger, started_at, clock_timestamp(), r.last_commit, error, error_code)
    RETURNING id INTO sid;
  END IF;
  UPDATE bb.repository x
     SET last_fetch_at = now(), last_error = error, failures = x.failures + 1,
         next_fetch_at = now() + least(x.poll * power(2, least(x.failures, 10)), greatest(x.poll, interval '5 min'))
   WHERE x.id = r.id;
  RETURN sid;
END $$;
COMMENT ON FUNCTION bb._gitops_failed(bigint, text, timestamptz, text, text) IS
  'Worker: records a failed fetch (last_error, back-off of the next one); returns the sync row, if one was written.';

-- bb.apply as the person who added the repository (the issue's creator, whose rights the
-- rollout uses); the worker's own identity comes back afterwards.
CREATE FUNCTION bb._apply_as(creator name, project text, statement text, targets text[], version text,
                             title text, out_of_order boolean) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE me text := session_user; iss bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = creator) THEN
    RAISE EXCEPTION 'role "%", which added the repository, does not exist any more', creator
      USING ERRCODE = 'undefined_object', HINT = 'Drop the repository and add it again as an existing admin.';
  END IF;
  PERFORM set_config('session_authorization', creator, true);
  iss := bb.apply(project, statement, targets, version, title, out_of_order);
  PERFORM set_config('session_authorization', me, true);
  RETURN iss;
END $$;
COMMENT ON FUNCTION bb._apply_as(name, text, text, text[], text, text, boolean) IS
  'Worker: bb.apply with the session user switched to the issue''s creator (only a superuser session may switch).';

-- Creates the issue of one file (in a subtransaction: a refused file leaves the others alone);
-- returns the issue id, or NULL with why.
CREATE FUNCTION bb._gitops_dispatch_file(r bb.repository, project text, file_id bigint, sync bigint, body text,
                                         engine text, targets text[], out_of_order boolean,
                                         OUT issue bigint, OUT why text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE f bb.repository_file; tg text[];
BEGIN
  SELECT * INTO f FROM bb.repository_file x WHERE x.id = file_id;
  BEGIN
    tg := coalesce(targets, r.targets);
    IF engine IS NOT NULL THEN
      tg := bb._database_refs(bb._file_targets(r.project_id, project, tg, engine));
    END IF;
    issue := bb._apply_as(r.created_by, project, body, tg, f.version, f.path, out_of_order);
    INSERT INTO bb.repository_dispatch (file_id, sync_id, issue_id, version, checksum, commit, author)
    VALUES (f.id, sync, issue, f.version, f.checksum, f.commit, f.author);
  EXCEPTION WHEN query_canceled OR admin_shutdown THEN RAISE;
  WHEN OTHERS THEN
    why := 'not dispatched: ' || bb._clip(SQLERRM, 500);
  END;
END $$;
COMMENT ON FUNCTION bb._gitops_dispatch_file(bb.repository, text, bigint, bigint, text, text, text[], boolean) IS
  'Worker: the issue of one repository file (bb.apply as the repository''s creator) and its dispatch record, or why not.';

-- Decides every file of the repository after a fetch (see the top of this file); returns the
-- issues created, in the order they were created.
CREATE FUNCTION bb._gitops_dispatch(r bb.repository, sync bigint, bodies jsonb) RETURNS bigint[]
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  project text := (SELECT p.name FROM bb.project p WHERE p.id = r.project_id);
  f record;
  d record;
  b jsonb;
  res record;
  blocked text;
  maxkey bytea;
  maxfile text;
  st text;
  reason text;
  issues bigint[] := '{}';
BEGIN
  -- the highest version this repository ever dispatched (deleted or modified files included)
  SELECT bb._version_key(x.version), f2.path INTO maxkey, maxfile
    FROM bb.repository_dispatch x JOIN bb.repository_file f2 ON f2.id = x.file_id
   WHERE f2.repository_id = r.id AND x.version IS NOT NULL
   ORDER BY bb._version_key(x.version) DESC LIMIT 1;

  FOR f IN
    SELECT x.* FROM bb.repository_file x
     WHERE x.repository_id = r.id AND x.deleted_at IS NULL AND x.kind <> 'other'
     ORDER BY x.kind = 'repeatable', bb._version_key(x.version), x.path
  LOOP
    b := bodies -> f.path;
    SELECT x.checksum, x.issue_id, x.commit INTO d FROM bb.repository_dispatch x
     WHERE x.file_id = f.id ORDER BY x.id DESC LIMIT 1;
    st := NULL; reason := NULL;
    IF d.checksum IS NOT NULL AND f.kind = 'versioned' THEN
      IF f.checksum IS NOT DISTINCT FROM d.checksum THEN
        st := 'dispatched';
      ELSE
        st := 'modified-after-apply';
        reason := format('changed after it was applied (issue %s, commit %s): applied checksum %s, now %s; an applied version is never applied again: restore the file and put the change in a new version',
                      coalesce(d.issue_id::text, '?'), coalesce(left(d.commit, 12), '?'), d.checksum,
                      coalesce(f.checksum, 'none (' || coalesce(b ->> 'why', 'unusable') || ')'));
      END IF;
    ELSIF b ->> 'why' IS NOT NULL THEN
      st := 'ignored';
      reason := b ->> 'why';
    ELSIF f.kind = 'versioned' AND b ->> 'duplicates' IS NOT NULL THEN
      st := 'ignored';
      reason := format('version %s is also the version of %s: rename one of them', f.version, b ->> 'duplicates');
    ELSIF f.kind = 'versioned' AND maxkey IS NOT NULL AND bb._version_key(f.version) < maxkey
          AND NOT r.allow_out_of_order THEN
      st := 'out-of-order';
      reason := format('version %s sorts below version %s already applied (%s); not applied: give it a higher version, or allow it with bb.alter_repository(%L, allow_out_of_order => true)',
                    f.version, (SELECT x.version FROM bb.repository_file x WHERE x.repository_id = r.id AND x.path = maxfile),
                    maxfile, r.name);
    ELSIF f.kind = 'repeatable' AND d.checksum IS NOT DISTINCT FROM f.checksum THEN
      st := 'dispatched';
    ELSIF blocked IS NOT NULL THEN
      st := 'pending';
      reason := blocked;
    ELSE
      res := bb._gitops_dispatch_file(r, project, f.id, sync, b ->> 'body', b ->> 'engine',
                                      CASE WHEN b ? 'targets' THEN ARRAY(SELECT jsonb_array_elements_text(b -> 'targets')) END,
                                      f.kind = 'versioned' AND maxkey IS NOT NULL AND bb._version_key(f.version) < maxkey);
      IF res.issue IS NOT NULL THEN
        st := 'dispatched';
        issues := issues || res.issue;
        IF f.kind = 'versioned' AND (maxkey IS NULL OR bb._version_key(f.version) > maxkey) THEN
          maxkey := bb._version_key(f.version);
          maxfile := f.path;
        END IF;
      ELSE
        st := 'pending';
        reason := res.why;
      END IF;
    END IF;
    -- a versioned file that is changed or broken, or any file that could not be dispatched,
    -- holds back every file after it (later versions, then the repeatables)
    IF blocked IS NULL AND r.block_on_error
       AND ((f.kind = 'versioned' AND st IN ('modified-after-apply', 'ignored'))
            OR (st = 'pending' AND reason LIKE 'not dispatched:%')) THEN
      blocked := format('held back by %s (%s)', f.path, st);
    END IF;
    UPDATE bb.repository_file x SET state = st, why = reason WHERE x.id = f.id;
  END LOOP;

  -- files deleted from the branch: reported when they were applied, forgotten otherwise
  DELETE FROM bb.repository_file x
   WHERE x.repository_id = r.id AND x.deleted_at IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM bb.repository_dispatch y WHERE y.file_id = x.id);
  UPDATE bb.repository_file x
     SET state = 'deleted',
         why = format('deleted from branch %s (seen at %s); what it applied stays applied: nothing is reverted', r.branch, x.deleted_at)
   WHERE x.repository_id = r.id AND x.deleted_at IS NOT NULL AND x.state <> 'deleted';
  RETURN issues;
END $$;
COMMENT ON FUNCTION bb._gitops_dispatch(bb.repository, bigint, jsonb) IS
  'Worker: decides the state of every file of a repository after a fetch and creates the issues of the new ones, in version order; returns the issue ids.';

-- Records a successful fetch: the files at the branch head (parallel arrays; contents NULL with
-- a note for files the helper did not read), then dispatches.  Returns the sync row's id, or
-- NULL when a poll found nothing new.
CREATE FUNCTION bb._gitops_record(repository bigint, trigger text, started_at timestamptz, head text,
                                  rewritten boolean, warning text, paths text[], contents bytea[], notes text[],
                                  blobs text[], sizes bigint[], commits text[], authors text[],
                                  committed timestamptz[]) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r bb.repository;
  sid bigint;
  c record;
  bodies jsonb := '{}';
  created bigint[];
  i int;
BEGIN
  SELECT * INTO r FROM bb.repository x WHERE x.id = _gitops_record.repository FOR UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  -- a poll that finds the same commit changes nothing (a file that could not be dispatched is
  -- tried again at the next commit or bb.sync_repository, not every poll: each try is an audited
  -- bb.apply)
  IF trigger = 'poll' AND head IS NOT DISTINCT FROM r.last_commit AND r.last_error IS NULL AND NOT rewritten THEN
    UPDATE bb.repository x SET last_fetch_at = now(), failures = 0, next_fetch_at = now() + x.poll WHERE x.id = r.id;
    RETURN NULL;
  END IF;

  INSERT INTO bb.repository_sync (repository_id, trigger, started_at, finished_at, commit_before, commit_after,
                                  rewritten, files, warning)
  VALUES (r.id, trigger, started_at, clock_timestamp(), r.last_commit, head, rewritten,
          coalesce(cardinality(paths), 0), warning)
  RETURNING id INTO sid;

  FOR c IN SELECT * FROM bb._classify_files(paths, contents, notes) LOOP
    i := c.n;
    bodies := bodies || jsonb_build_object(c.path, jsonb_strip_nulls(jsonb_build_object(
      'body', c.body, 'why', c.why, 'engine', c.engine, 'targets', to_jsonb(c.targets), 'duplicates', c.duplicates)));
    INSERT INTO bb.repository_file AS x (repository_id, path, kind, version, blob, checksum, size, state, why,
                                         commit, author, committed_at)
    VALUES (r.id, c.path, c.kind, c.version, blobs[i], c.checksum, sizes[i],
            CASE WHEN c.kind = 'other' THEN 'ignored' ELSE 'pending' END, CASE WHEN c.kind = 'other' THEN c.why END,
            coalesce(commits[i], head), authors[i], committed[i])
    ON CONFLICT (repository_id, path) DO UPDATE
       SET kind = EXCLUDED.kind, version = EXCLUDED.version, checksum = EXCLUDED.checksum, size = EXCLUDED.size,
           state = EXCLUDED.state, why = EXCLUDED.why, seen_at = now(), deleted_at = NULL,
           blob = EXCLUDED.blob,
           -- who changed it: kept while the content is the same
           commit = CASE WHEN x.blob IS NOT DISTINCT FROM EXCLUDED.blob AND x.deleted_at IS NULL THEN x.commit ELSE EXCLUDED.commit END,
           author = CASE WHEN x.blob IS NOT DISTINCT FROM EXCLUDED.blob AND x.deleted_at IS NULL THEN x.author ELSE EXCLUDED.author END,
           committed_at = CASE WHEN x.blob IS NOT DISTINCT FROM EXCLUDED.blob AND x.deleted_at IS NULL THEN x.committed_at ELSE EXCLUDED.committed_at END;
  END LOOP;
  UPDATE bb.repository_file x SET deleted_at = now()
   WHERE x.repository_id = r.id AND x.deleted_at IS NULL AND NOT (x.path = ANY (coalesce(paths, '{}')));

  created := bb._gitops_dispatch(r, sid, bodies);

  UPDATE bb.repository x
     SET last_commit = head, last_fetch_at = now(), last_error = NULL, failures = 0,
         next_fetch_at = now() + x.poll,
         last_warning = CASE WHEN warning IS NOT NULL THEN warning
                             WHEN head IS DISTINCT FROM r.last_commit THEN NULL ELSE x.last_warning END
   WHERE x.id = r.id;
  UPDATE bb.repository_sync s SET finished_at = clock_timestamp(), issues = created WHERE s.id = sid;
  RETURN sid;
END $$;
COMMENT ON FUNCTION bb._gitops_record(bigint, text, timestamptz, text, boolean, text, text[], bytea[], text[], text[], bigint[], text[], text[], timestamptz[]) IS
  'Worker: records a fetch (the files under the repository''s path at the branch head with blob, size, last commit and author) and dispatches; returns the sync row id or NULL.';

REVOKE ALL ON FUNCTION bb._gitops_due(bigint[]), bb._gitops_next_due(), bb._gitops_workdirs(),
  bb._gitops_failed(bigint, text, timestamptz, text, text),
  bb._apply_as(name, text, text, text[], text, text, boolean),
  bb._gitops_dispatch_file(bb.repository, text, bigint, bigint, text, text, text[], boolean),
  bb._gitops_dispatch(bb.repository, bigint, jsonb),
  bb._gitops_record(bigint, text, timestamptz, text, boolean, text, text[], bytea[], text[], text[], bigint[], text[], text[], timestamptz[]),
  bb._gitops_sync_wait(bigint, interval), bb._gitops_wake()
  FROM PUBLIC;
