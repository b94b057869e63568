-- bytebase 0.4 — GitOps (1/2): tables, migration files and their state, repositories and their
-- API, the CLI's check and rollout, views, grants and row-level security.
--
-- New in 0.4: this fragment runs after the 0.3 install script (fresh install of 0.4) and as
-- part of the update 0.3 -> 0.4; every object it makes is new in 0.4, so both paths create it.
--
-- A repository (bb.add_repository) is fetched by the gitops worker (src/gitops/) on its poll
-- interval and on bb.sync_repository; libgit2 runs only in the helper process the worker starts
-- for each fetch (bytebase-git-fetch), never in a user backend.  What the worker does with the
-- files is in 40_gitops_worker.sql; the CLI's check and rollout, views,
-- grants and row-level security are below in this file.
--
-- File names (the rules live here once; the watcher and the CLI use them):
--   V<version>__<description>.sql   versioned (Flyway), e.g. V1__init.sql, V1_2__orders.sql
--   <version>_<description>.sql     versioned (Bytebase), e.g. 20261201_add_orders.sql
--   R__<description>.sql            repeatable: applied again whenever its content changes
-- a version is digits separated by '.' or '_' (stored with '.': V1_2 is version 1.2) and
-- compared with bb._version_key; anything else is listed as ignored, with the reason.
-- Header options: leading comment lines "-- bb:engine <engine>" (the file applies only to the
-- targets of that engine) and "-- bb:targets <database or group>, ..." (replaces the
-- repository's targets); "-- bb:ignore <rule>" is a review suppression and passes through.


---------------------------------------------------------------------------
-- GitOps: watched repositories, their migration files, what was dispatched, each sync
-- (the gitops worker fetches with libgit2 in a helper process)
---------------------------------------------------------------------------

CREATE TABLE bb.repository (
  id                  bigserial PRIMARY KEY,
  project_id          bigint NOT NULL REFERENCES bb.project,
  name                text NOT NULL UNIQUE,
  url                 text NOT NULL,
  branch              text NOT NULL,
  path                text NOT NULL,            -- folder of the migration files, '' = the root
  poll                interval NOT NULL CHECK (poll >= interval '1 second'),
  targets             text[],                   -- bb.apply targets; NULL = every database of the project
  allow_out_of_order  boolean NOT NULL DEFAULT false,
  block_on_error      boolean NOT NULL DEFAULT true,
  enabled             boolean NOT NULL DEFAULT true,
  server_name         name UNIQUE,              -- foreign server whose user mapping holds the token
  last_commit         text,
  last_fetch_at       timestamptz,
  last_error          text,
  last_warning        text,
  failures            int NOT NULL DEFAULT 0,   -- fetches failed in a row (back-off)
  next_fetch_at       timestamptz NOT NULL DEFAULT now(),
  created_by          name NOT NULL DEFAULT bb._caller(),
  created_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.repository IS
  'Git repositories whose migration files become issues (GitOps); the issues'' creator is created_by. A token for https lives in the user mapping of server_name, never here.';

CREATE TABLE bb.repository_sync (
  id             bigserial PRIMARY KEY,
  repository_id  bigint NOT NULL REFERENCES bb.repository ON DELETE CASCADE,
  trigger        text NOT NULL CHECK (trigger IN ('poll', 'request')),
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL,
  commit_before  text,
  commit_after   text,
  rewritten      boolean NOT NULL DEFAULT false,
  files          int,
  issues         bigint[] NOT NULL DEFAULT '{}',
  error          text,
  error_code     text CHECK (error_code ~ '^[0-9A-Z]{5}$'),
  warning        text
);
COMMENT ON TABLE bb.repository_sync IS
  'Fetches of a repository that changed something, failed, warned or were requested: the commits before and after, the issues created, the error.';
CREATE INDEX repository_sync_repository ON bb.repository_sync (repository_id, id);

CREATE TABLE bb.repository_file (
  id             bigserial PRIMARY KEY,
  repository_id  bigint NOT NULL REFERENCES bb.repository ON DELETE CASCADE,
  path           text NOT NULL,                 -- relative to the repository's path
  kind           text NOT NULL CHECK (kind IN ('versioned', 'repeatable', 'other')),
  version        text,
  blob           text,                          -- git blob id of the content seen last
  checksum       text,                          -- sha256 (hex) of the content as applied; NULL when unusable
  size           bigint,
  state          text NOT NULL CHECK (state IN ('pending', 'dispatched', 'modified-after-apply', 'out-of-order', 'ignored', 'deleted')),
  why            text,
  commit         text,                          -- the commit that last changed it (or first showed it)
  author         text,
  committed_at   timestamptz,
  seen_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz,
  UNIQUE (repository_id, path)
);
COMMENT ON TABLE bb.repository_file IS
  'Files of a watched repository under its path and what the watcher decided for each (see bb.repository_files).';

CREATE TABLE bb.repository_dispatch (
  id             bigserial PRIMARY KEY,
  file_id        bigint NOT NULL REFERENCES bb.repository_file ON DELETE CASCADE,
  sync_id        bigint REFERENCES bb.repository_sync ON DELETE SET NULL,
  issue_id       bigint REFERENCES bb.issue ON DELETE SET NULL,
  version        text,
  checksum       text NOT NULL,
  commit         text,
  author         text,
  dispatched_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bb.repository_dispatch IS
  'Each issue the watcher created from a file: the content''s checksum, the commit and its author (a repeatable file gets one per content).';
CREATE INDEX repository_dispatch_file ON bb.repository_dispatch (file_id, id);
CREATE INDEX repository_dispatch_issue ON bb.repository_dispatch (issue_id);

-- pg_dump keeps the user data of the GitOps catalog
SELECT pg_catalog.pg_extension_config_dump('bb.repository', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_sync', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_sync_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_file', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_file_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_dispatch', '');
SELECT pg_catalog.pg_extension_config_dump('bb.repository_dispatch_id_seq', '');


CREATE FUNCTION bb._gitops_sync_wait(repository bigint, timeout interval) RETURNS bigint
    LANGUAGE c STRICT SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_gitops_sync_wait';
COMMENT ON FUNCTION bb._gitops_sync_wait(bigint, interval) IS
  'Asks the gitops worker to fetch the repository now and waits (interruptibly) for that fetch; returns its bb.repository_sync id (0 when nothing was recorded).';

CREATE FUNCTION bb._gitops_wake() RETURNS void
    LANGUAGE c SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'bb_gitops_wake';
COMMENT ON FUNCTION bb._gitops_wake() IS 'Wakes the gitops worker when the calling transaction commits (repositories changed).';

CREATE FUNCTION bb._utf8_error_line(content bytea) RETURNS int
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'bb_utf8_error_line';
COMMENT ON FUNCTION bb._utf8_error_line(bytea) IS
  'NULL when the bytes are valid UTF-8 without NUL; else the line (1-based) of the first invalid byte.';

---------------------------------------------------------------------------
-- Migration files
---------------------------------------------------------------------------

-- What a file name says: kind (versioned, repeatable, other), version, description, or why not.
CREATE FUNCTION bb._migration_file(name text,
    OUT kind text, OUT version text, OUT description text, OUT why text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE base text; m text[];
BEGIN
  kind := 'other';
  IF name IS NULL OR name !~* '\.sql$' THEN
    why := 'not a .sql file';
    RETURN;
  END IF;
  base := left(name, -4);
  IF base ~ '^R__' THEN
    description := substr(base, 4);
    IF description !~ '\S' THEN
      description := NULL;
      why := 'a repeatable file needs a description: R__<description>.sql';
      RETURN;
    END IF;
    kind := 'repeatable';
    RETURN;
  END IF;
  IF base ~ '^V' THEN
    m := regexp_match(base, '^V([0-9]+(?:[._][0-9]+)*)__(.+)$');
    IF m IS NULL THEN
      why := 'not a versioned file name: V<version>__<description>.sql with a version of digits separated by "." or "_" (e.g. V1_2__add_orders.sql)';
      RETURN;
    END IF;
  ELSIF base ~ '^[0-9]' THEN
    m := regexp_match(base, '^([0-9]+(?:[._][0-9]+)*)_+([^0-9_].*)$');
    IF m IS NULL THEN
      why := 'not a versioned file name: <version>_<description>.sql with a version of digits separated by "." or "_" and a description (e.g. 20261201_add_orders.sql)';
      RETURN;
    END IF;
  ELSE
    why := 'not a migration file name: V<version>__<description>.sql, <version>_<description>.sql or R__<description>.sql';
    RETURN;
  END IF;
  version := replace(m[1], '_', '.');
  description := m[2];
  IF length(version) > 200 THEN
    version := NULL;
    why := 'the version is longer than 200 characters';
    RETURN;
  END IF;
  kind := 'versioned';
END $$;
COMMENT ON FUNCTION bb._migration_file(text) IS
  'Kind (versioned, repeatable, other), version (with "." separators) and description of a migration file name; why when it is not one.';

-- The header options of a script: its leading blank and "--" comment lines.
CREATE FUNCTION bb._file_options(body text, OUT engine text, OUT targets text[], OUT why text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE header text; line text; m text[]; opt text;
BEGIN
  header := substring(body FROM '^(?:[ \t]*(?:--[^\n]*)?\r?\n)*');
  IF header IS NULL OR header = '' THEN RETURN; END IF;
  FOREACH line IN ARRAY regexp_split_to_array(header, '\r?\n') LOOP
    m := regexp_match(line, '^\s*--\s*bb:([A-Za-z_-]+)(?:\s+(.*?))?\s*$');
    CONTINUE WHEN m IS NULL;
    opt := lower(m[1]);
    IF opt = 'ignore' THEN
      CONTINUE;                         -- a review suppression, not an option
    ELSIF opt = 'engine' THEN
      IF engine IS NOT NULL OR m[2] IS NULL OR NOT EXISTS (SELECT 1 FROM bb.engine e WHERE e.name = lower(m[2])) THEN
        why := format('header option bb:engine needs one of: %s', (SELECT string_agg(e.name, ', ' ORDER BY e.name) FROM bb.engine e));
        RETURN;
      END IF;
      engine := lower(m[2]);
    ELSIF opt = 'targets' THEN
      IF targets IS NOT NULL OR m[2] IS NULL THEN
        why := 'header option bb:targets needs a comma-separated list of databases (instance/database) or groups, once';
        RETURN;
      END IF;
      targets := ARRAY(SELECT btrim(t) FROM unnest(string_to_array(m[2], ',')) t WHERE btrim(t) <> '');
    ELSE
      why := format('unknown header option bb:%s (known: engine, targets; bb:ignore is a review suppression)', bb._clip(m[1], 40));
      RETURN;
    END IF;
  END LOOP;
END $$;
COMMENT ON FUNCTION bb._file_options(text) IS
  'Header options of a migration script: -- bb:engine <engine>, -- bb:targets <db or group>, ...; why when one is malformed or unknown.';

-- One file as the watcher and the CLI see it: name, content, and the reason it cannot be used.
-- note, when given, is a reason the reader already found (too large, a symbolic link).
CREATE FUNCTION bb._classify_file(path text, content bytea, note text DEFAULT NULL,
    OUT kind text, OUT version text, OUT vkey bytea, OUT description text, OUT body text,
    OUT checksum text, OUT engine text, OUT targets text[], OUT why text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE f record; o record; raw bytea := content; bad int;
BEGIN
  IF path IS NULL OR path = '' THEN
    RAISE EXCEPTION 'a file has no path' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  f := bb._migration_file(regexp_replace(path, '^.*/', ''));
  kind := f.kind; version := f.version; vkey := bb._version_key(f.version);
  description := f.description; why := f.why;
  IF why IS NOT NULL THEN RETURN; END IF;
  IF note IS NOT NULL THEN why := note; RETURN; END IF;
  IF raw IS NULL THEN why := 'no content'; RETURN; END IF;
  IF substr(raw, 1, 3) = '\xefbbbf'::bytea THEN
    raw := substr(raw, 4);              -- a UTF-8 byte order mark is not part of the script
  END IF;
  bad := bb._utf8_error_line(raw);
  IF bad IS NOT NULL THEN
    why := format('not valid UTF-8 (line %s)', bad);
    RETURN;
  END IF;
  body := convert_from(raw, 'UTF8');
  IF body !~ '\S' THEN
    body := NULL;
    why := 'empty file';
    RETURN;
  END IF;
  checksum := encode(sha256(convert_to(body, 'UTF8')), 'hex');   -- as bb.apply and the changelog
  o := bb._file_options(body);
  engine := o.engine; targets := o.targets; why := o.why;
END $$;
COMMENT ON FUNCTION bb._classify_file(text, bytea, text) IS
  'A migration file by name and content: kind, version and its sort key, body (UTF-8, BOM removed), sha256 checksum, header options, '
  'and why it cannot be used (name, encoding, empty, header).';

-- Files of one tree or folder; duplicates lists the other versioned files with the same version.
CREATE FUNCTION bb._classify_files(paths text[], contents bytea[], notes text[] DEFAULT NULL)
RETURNS TABLE(n int, path text, kind text, version text, vkey bytea, description text, body text,
              checksum text, engine text, targets text[], why text, duplicates text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH c AS (
    SELECT u.n::int AS n, u.p AS path, f.*
      FROM unnest(paths, contents) WITH ORDINALITY AS u(p, c, n)
     CROSS JOIN LATERAL bb._classify_file(u.p, u.c, notes[u.n]) f)
  SELECT c.n, c.path, c.kind, c.version, c.vkey, c.description, c.body, c.checksum, c.engine, c.targets, c.why,
         (SELECT string_agg(x.path, ', ' ORDER BY x.path) FROM c x
           WHERE c.kind = 'versioned' AND x.kind = 'versioned' AND x.vkey = c.vkey AND x.n <> c.n)
    FROM c ORDER BY c.n
$$;
COMMENT ON FUNCTION bb._classify_files(text[], bytea[], text[]) IS
  'bb._classify_file for each file, with the other versioned files that have the same version (duplicates).';

-- The state of one migration file on one database, from its changelog and queue:
-- applied, modified-after-apply, out-of-order or pending (with why).
CREATE FUNCTION bb._file_state(database_id bigint, kind text, version text, vkey bytea, checksum text, title text,
                               OUT state text, OUT why text, OUT queued_by bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE c record;
BEGIN
  IF kind = 'versioned' THEN
    SELECT ce.checksum, ce.issue_id INTO c FROM bb.changelog_entry ce
     WHERE ce.database_id = _file_state.database_id AND ce.version = _file_state.version AND ce.status = 'done'
     ORDER BY ce.id DESC LIMIT 1;
    IF FOUND THEN
      IF c.checksum = _file_state.checksum THEN
        state := 'applied';
      ELSE
        state := 'modified-after-apply';
        why := format('version %s was applied with checksum %s%s; the file now has checksum %s: an applied version never changes, give the change a new version',
                      _file_state.version, c.checksum, coalesce(' (issue ' || c.issue_id || ')', ''), _file_state.checksum);
      END IF;
      RETURN;
    END IF;
    SELECT t.issue_id INTO queued_by FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id
     WHERE t.database_id = _file_state.database_id AND i.version = _file_state.version
       AND i.status IN ('open', 'failed') AND t.status IN ('pending_approval', 'pending', 'running', 'failed')
     ORDER BY t.issue_id LIMIT 1;
    IF queued_by IS NOT NULL THEN
      state := 'pending';
      why := format('queued by issue %s', queued_by);
      RETURN;
    END IF;
    SELECT ce.version INTO c FROM bb.changelog_entry ce
     WHERE ce.database_id = _file_state.database_id AND ce.status = 'done' AND ce.version IS NOT NULL
     ORDER BY bb._version_key(ce.version) DESC LIMIT 1;
    IF FOUND AND bb._version_key(c.version) > vkey THEN
      state := 'out-of-order';
      why := format('version %s is below version %s already applied', _file_state.version, c.version);
      RETURN;
    END IF;
    state := 'pending';
    RETURN;
  END IF;
  -- repeatable: the issues titled with the file, the last content applied
  SELECT t.issue_id INTO queued_by FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id
   WHERE t.database_id = _file_state.database_id AND i.title = _file_state.title AND i.version IS NULL
     AND i.statement_hash = _file_state.checksum
     AND i.status IN ('open', 'failed') AND t.status IN ('pending_approval', 'pending', 'running', 'failed')
   ORDER BY t.issue_id LIMIT 1;
  IF queued_by IS NOT NULL THEN
    state := 'pending';
    why := format('queued by issue %s', queued_by);
    RETURN;
  END IF;
  SELECT ce.checksum INTO c FROM bb.changelog_entry ce JOIN bb.issue i ON i.id = ce.issue_id
   WHERE ce.database_id = _file_state.database_id AND ce.status = 'done' AND ce.version IS NULL
     AND i.title = _file_state.title
   ORDER BY ce.id DESC LIMIT 1;
  IF FOUND AND c.checksum = _file_state.checksum THEN
    state := 'applied';
  ELSE
    state := 'pending';
    why := CASE WHEN FOUND THEN 'changed since it was last applied' END;
  END IF;
END $$;
COMMENT ON FUNCTION bb._file_state(bigint, text, text, bytea, text, text) IS
  'State of a migration file on a database from its changelog: applied, modified-after-apply, out-of-order or pending (queued_by: the issue that will apply it).';

-- The databases a file goes to: its own targets or the given ones (NULL = the project's),
-- narrowed to one engine; raises for unknown targets and for an engine no target has.
CREATE FUNCTION bb._file_targets(proj bigint, project text, targets text[], engine text) RETURNS bigint[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE dbs bigint[];
BEGIN
  dbs := bb._apply_targets(proj, project, targets);
  IF engine IS NOT NULL THEN
    dbs := ARRAY(SELECT x.id FROM bb.database x JOIN bb.instance i ON i.id = x.instance_id
                  WHERE x.id = ANY (dbs) AND i.engine = _file_targets.engine ORDER BY x.id);
  END IF;
  IF cardinality(dbs) = 0 THEN
    RAISE EXCEPTION 'no target databases%', coalesce(format(' of engine %s', engine), '')
      USING ERRCODE = 'no_data_found',
            HINT = 'See bb.databases for the project''s databases and their engines.';
  END IF;
  RETURN dbs;
END $$;
COMMENT ON FUNCTION bb._file_targets(bigint, text, text[], text) IS
  'Database ids a migration file applies to: its targets (NULL = the project''s databases) narrowed to its engine option.';

-- 'instance/database' refs of database ids, for bb.apply.
CREATE FUNCTION bb._database_refs(dbs bigint[]) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(i.name || '/' || x.name ORDER BY i.name, x.name), '{}')
    FROM bb.database x JOIN bb.instance i ON i.id = x.instance_id WHERE x.id = ANY (dbs)
$$;
COMMENT ON FUNCTION bb._database_refs(bigint[]) IS 'The ''instance/database'' references of database ids.';

---------------------------------------------------------------------------
-- Repositories
---------------------------------------------------------------------------

-- The repository row by name; unknown, or in a project the caller does not see: does not exist.
CREATE FUNCTION bb._repository(name text) RETURNS bb.repository
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.repository;
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION 'repository must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO r FROM bb.repository x WHERE x.name = _repository.name;
  IF NOT FOUND OR NOT bb._sees_project(r.project_id) THEN
    RAISE EXCEPTION 'repository "%" does not exist', bb._clip(name) USING ERRCODE = 'undefined_object',
      HINT = 'See SELECT name FROM bb.repositories; add one with bb.add_repository().';
  END IF;
  RETURN r;
END $$;
COMMENT ON FUNCTION bb._repository(text) IS
  'The repository by name; raises undefined_object when unknown or in a project the caller does not see.';

-- Where a repository is and what of it is watched; returns the path normalized ('' = root,
-- else 'a/b').  URLs never carry credentials (a token goes to token =>).
CREATE FUNCTION bb._check_repository(url text, branch text, path text, poll interval) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE p text;
BEGIN
  PERFORM bb._not_null('url', url);
  PERFORM bb._not_null('branch', branch);
  PERFORM bb._not_null('poll', poll);
  IF url ~ '[\s\x01-\x1f\x7f]' OR length(url) > 1000 THEN
    RAISE EXCEPTION 'invalid repository URL' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A URL is one line without spaces, e.g. ''https://github.com/acme/shop.git'' or ''file:///srv/git/shop.git''.';
  END IF;
  IF url ~* '^(ssh|git)://' OR url ~ '^[^/:]+@[^/:]+:' THEN
    RAISE EXCEPTION 'repository URL scheme not supported: %', bb._clip(regexp_replace(url, '//[^/@]*@', '//')) USING ERRCODE = 'feature_not_supported',
      HINT = 'Use https:// with an access token (token => ...), or a local path / file:// URL.';
  END IF;
  IF url ~* '^[a-z][a-z0-9+.-]*://[^/@]*@' THEN
    RAISE EXCEPTION 'a repository URL must not contain credentials' USING ERRCODE = 'invalid_parameter_value',
      DETAIL = 'URLs are shown in bb.repositories and in the audit log.',
      HINT = 'Give the URL without user and password and pass the access token as token => ''...''.';
  END IF;
  IF url !~* '^(https?://[^/]+/.|file:///.|/.)' THEN
    RAISE EXCEPTION 'invalid repository URL "%"', bb._clip(url) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use https://host/owner/repo.git, file:///absolute/path or an absolute path on the server.';
  END IF;
  -- a local repository is read with the server's own file access
  IF url ~* '^(file://|/)' AND NOT bb._has_role('pg_read_server_files') THEN
    RAISE EXCEPTION 'permission denied to watch a repository on the server''s file system'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'file:// URLs and local paths are read with the server''s operating-system user.',
            HINT = 'Only superusers and members of pg_read_server_files may add local repositories.';
  END IF;
  IF branch = '' OR length(branch) > 200 OR branch !~ '^[A-Za-z0-9._/-]+$' OR branch ~ '(^[-/.])|(/$)|(\.\.)|(//)|(/\.)|(\.lock$)|(^HEAD$)' THEN
    RAISE EXCEPTION 'invalid branch name "%"', bb._clip(branch) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Give the short name of a branch, e.g. ''main'' or ''release/2026''.';
  END IF;
  p := btrim(regexp_replace(coalesce(path, ''), '/+', '/', 'g'), '/');
  p := regexp_replace(p, '^(\./)+', '');
  IF p = '.' THEN p := ''; END IF;
  IF length(p) > 1000 OR p ~ '(^|/)\.\.?(/|$)' OR p ~ '[\x01-\x1f\x7f\\]' THEN
    RAISE EXCEPTION 'invalid path "%"', bb._clip(path) USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A folder inside the repository, e.g. ''migrations/''; '''' for the root; no "." or ".." parts.';
  END IF;
  IF poll < interval '1 second' OR poll > interval '1 day' THEN
    RAISE EXCEPTION 'poll interval % is out of range', poll USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Poll between 1 second and 1 day, e.g. ''30 s''; bb.sync_repository() fetches at once.';
  END IF;
  RETURN p;
END $$;
COMMENT ON FUNCTION bb._check_repository(text, text, text, interval) IS
  'Validates URL (https, file:// or a local path, no credentials; local ones need pg_read_server_files), branch, path and poll; returns the normalized path.';

-- The token of an https repository lives in the user mapping of its own foreign server, readable
-- only by the extension owner (as instance credentials); never in a table, view or log.
CREATE FUNCTION bb._store_token(repository text, srv name, token text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  BEGIN  -- the statement holds the token: never let it reach an error context
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping um JOIN pg_catalog.pg_foreign_server s ON s.oid = um.umserver
                WHERE s.srvname = srv AND um.umuser = 0) THEN
      EXECUTE format('DROP USER MAPPING FOR PUBLIC SERVER %I', srv);
    END IF;
    IF token IS NOT NULL THEN
      EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (user %L, password %L)',
                     srv, 'x-access-token', token);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'could not store the token of repository "%"', repository
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Check the token value.';
  END;
END $$;
COMMENT ON FUNCTION bb._store_token(text, name, text) IS
  'Writes (or removes, token NULL) the user mapping that holds a repository''s access token; errors never show the statement.';

CREATE FUNCTION bb.add_repository(project text, name text, url text, branch text DEFAULT 'main',
                                  path text DEFAULT '', poll interval DEFAULT '1 min',
                                  targets text[] DEFAULT NULL, token text DEFAULT NULL,
                                  allow_out_of_order boolean DEFAULT false, block_on_error boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  proj bigint;
  p text;
  srv name;
  saved_log_level text;
BEGIN
  -- the calling statement may hold the token: keep it out of the server log if this call fails
  saved_log_level := current_setting('log_min_error_statement');
  PERFORM set_config('log_min_error_statement', 'panic', true);
  PERFORM bb._audit('add_repository', jsonb_build_object('project', project, 'name', name, 'url', url,
    'branch', branch, 'path', path, 'poll', poll, 'targets', targets,
    'token', CASE WHEN token IS NOT NULL THEN '<redacted>' END,
    'allow_out_of_order', allow_out_of_order, 'block_on_error', block_on_error));
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', project));
  PERFORM bb._check_name('repository', name);
  p := bb._check_repository(url, branch, path, poll);
  PERFORM bb._not_null('allow_out_of_order', allow_out_of_order);
  PERFORM bb._not_null('block_on_error', block_on_error);
  IF token IS NOT NULL AND url !~* '^https://' THEN
    RAISE EXCEPTION 'a token is only sent over https' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use an https:// URL, or no token for a local repository.';
  END IF;
  IF array_position(targets, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'targets must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF targets IS NOT NULL THEN
    PERFORM bb._apply_targets(proj, project, targets);      -- unknown or foreign targets fail now
  END IF;
  IF EXISTS (SELECT 1 FROM bb.repository r WHERE r.name = add_repository.name) THEN
    RAISE EXCEPTION 'repository "%" already exists', name USING ERRCODE = 'duplicate_object',
      HINT = 'Repository names are unique; see bb.repositories.';
  END IF;
  IF token IS NOT NULL THEN
    srv := 'bytebase_repo_' || name;
    IF EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.srvname = srv) THEN
      PERFORM bb._store_token(name, srv, NULL);
      EXECUTE format('DROP SERVER %I', srv);     -- left behind by DROP EXTENSION
    END IF;
    EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER bytebase', srv);
    PERFORM bb._store_token(name, srv, token);
  END IF;
  INSERT INTO bb.repository (project_id, name, url, branch, path, poll, targets, allow_out_of_order,
                             block_on_error, server_name, created_by)
  VALUES (proj, add_repository.name, url, branch, p, poll, nullif(targets, '{}'), allow_out_of_order,
          block_on_error, srv, bb._caller());
  PERFORM bb._gitops_wake();
  PERFORM set_config('log_min_error_statement', saved_log_level, true);
END $$;
COMMENT ON FUNCTION bb.add_repository(text, text, text, text, text, interval, text[], text, boolean, boolean) IS
  'Watches a git repository (admins; local paths and file:// URLs need pg_read_server_files): migration files on branch under path '
  'become issues of the project for targets (NULL = all its databases), created as the caller, in version order; fetched every poll '
  'and on bb.sync_repository. token: an https access token, kept in a user mapping readable only by the extension owner.';

CREATE FUNCTION bb.alter_repository(name text, poll interval DEFAULT NULL, targets text[] DEFAULT NULL,
                                    token text DEFAULT NULL, allow_out_of_order boolean DEFAULT NULL,
                                    block_on_error boolean DEFAULT NULL, enabled boolean DEFAULT NULL,
                                    remove_token boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r bb.repository;
  srv name;
  saved_log_level text;
BEGIN
  saved_log_level := current_setting('log_min_error_statement');
  PERFORM set_config('log_min_error_statement', 'panic', true);
  PERFORM bb._audit('alter_repository', jsonb_build_object('name', name, 'poll', poll, 'targets', targets,
    'token', CASE WHEN token IS NOT NULL THEN '<redacted>' END, 'allow_out_of_order', allow_out_of_order,
    'block_on_error', block_on_error, 'enabled', enabled, 'remove_token', remove_token));
  PERFORM bb._require('bytebase_admin');
  r := bb._repository(name);
  PERFORM 1 FROM bb.repository x WHERE x.id = r.id FOR UPDATE;
  PERFORM bb._not_null('remove_token', remove_token);
  IF poll IS NOT NULL THEN
    PERFORM bb._check_repository(r.url, r.branch, r.path, poll);
  END IF;
  IF array_position(targets, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'targets must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF cardinality(targets) > 0 THEN
    PERFORM bb._apply_targets(r.project_id, (SELECT p.name FROM bb.project p WHERE p.id = r.project_id), targets);
  END IF;
  IF token IS NOT NULL AND remove_token THEN
    RAISE EXCEPTION 'give a token or remove_token => true, not both' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF token IS NOT NULL AND r.url !~* '^https://' THEN
    RAISE EXCEPTION 'a token is only sent over https' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A local repository needs no token.';
  END IF;
  srv := r.server_name;
  IF token IS NOT NULL THEN
    IF srv IS NULL THEN
      srv := 'bytebase_repo_' || r.name;
      IF NOT EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.srvname = srv) THEN
        EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER bytebase', srv);
      END IF;
    END IF;
    PERFORM bb._store_token(r.name, srv, token);
  ELSIF remove_token AND srv IS NOT NULL THEN
    PERFORM bb._store_token(r.name, srv, NULL);
    EXECUTE format('DROP SERVER IF EXISTS %I', srv);
    srv := NULL;
  END IF;
  UPDATE bb.repository x
     SET poll = coalesce(alter_repository.poll, x.poll),
         targets = CASE WHEN alter_repository.targets IS NULL THEN x.targets ELSE nullif(alter_repository.targets, '{}') END,
         allow_out_of_order = coalesce(alter_repository.allow_out_of_order, x.allow_out_of_order),
         block_on_error = coalesce(alter_repository.block_on_error, x.block_on_error),
         enabled = coalesce(alter_repository.enabled, x.enabled),
         server_name = srv,
         next_fetch_at = least(x.next_fetch_at, now() + coalesce(alter_repository.poll, x.poll))
   WHERE x.id = r.id;
  PERFORM bb._gitops_wake();
  PERFORM set_config('log_min_error_statement', saved_log_level, true);
END $$;
COMMENT ON FUNCTION bb.alter_repository(text, interval, text[], text, boolean, boolean, boolean, boolean) IS
  'Changes how a repository is watched (admins; NULL keeps a value): poll, targets (''{}'' = every database of the project), token '
  '(remove_token => true drops it), allow_out_of_order, block_on_error, enabled. URL, branch and path are fixed: drop and add instead.';

CREATE FUNCTION bb.drop_repository(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r bb.repository;
BEGIN
  PERFORM bb._audit('drop_repository', jsonb_build_object('name', name));
  PERFORM bb._require('bytebase_admin');
  r := bb._repository(name);
  DELETE FROM bb.repository x WHERE x.id = r.id;    -- its files, dispatch records and syncs go with it
  IF r.server_name IS NOT NULL THEN
    PERFORM bb._store_token(r.name, r.server_name, NULL);
    EXECUTE format('DROP SERVER IF EXISTS %I', r.server_name);
  END IF;
  PERFORM bb._gitops_wake();
END $$;
COMMENT ON FUNCTION bb.drop_repository(text) IS
  'Stops watching a repository and forgets its files (admins); the issues it created and the changelog stay; the worker deletes its working copy.';

-- Fetch now: the worker fetches (commits in its own transactions), this call waits for it.
CREATE FUNCTION bb.sync_repository(name text, timeout interval DEFAULT '1 min') RETURNS bigint[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r bb.repository;
  sid bigint;
  s bb.repository_sync;
  attention int;
BEGIN
  PERFORM bb._audit('sync_repository', jsonb_build_object('name', name, 'timeout', timeout));
  PERFORM bb._require('bytebase_developer', 'bytebase_admin');
  r := bb._repository(name);
  PERFORM bb._require_project(r.project_id, (SELECT p.name FROM bb.project p WHERE p.id = r.project_id));
  IF timeout IS NULL OR timeout < interval '0' THEN
    RAISE EXCEPTION 'timeout must be a non-negative interval' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example bb.sync_repository(''shop-migrations'', ''30 s'').';
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'bb.sync_repository needs READ COMMITTED isolation' USING ERRCODE = 'object_not_in_prerequisite_state',
      HINT = 'In a REPEATABLE READ or SERIALIZABLE transaction the worker''s result is never seen.';
  END IF;
  IF (SELECT x.xmin::text FROM bb.repository x WHERE x.id = r.id)
     = (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)::text THEN
    RAISE EXCEPTION 'repository "%" was changed by this transaction, which has not committed yet', r.name
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Commit first: the worker only sees committed repositories.';
  END IF;
  sid := bb._gitops_sync_wait(r.id, timeout);
  SELECT * INTO s FROM bb.repository_sync x WHERE x.id = sid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'repository "%" was dropped while it was fetched', r.name USING ERRCODE = 'undefined_object';
  END IF;
  IF s.error IS NOT NULL THEN
    RAISE EXCEPTION 'could not fetch repository "%": %', r.name, s.error
      USING ERRCODE = coalesce(s.error_code, 'external_routine_exception'),
            HINT = 'See SELECT * FROM bb.repositories; the worker retries on the poll interval.';
  END IF;
  SELECT count(*) INTO attention FROM bb.repository_file f
   WHERE f.repository_id = r.id
     AND (f.state IN ('modified-after-apply', 'out-of-order') OR (f.state = 'ignored' AND f.kind <> 'other')
          OR (f.state = 'pending' AND f.why IS NOT NULL));
  IF attention > 0 THEN
    RAISE NOTICE '% file% of repository "%" need% attention', attention, CASE WHEN attention > 1 THEN 's' ELSE '' END,
                 r.name, CASE WHEN attention > 1 THEN '' ELSE 's' END
      USING HINT = format('SELECT file, state, why FROM bb.repository_files WHERE repository = %L AND why IS NOT NULL;', r.name);
  END IF;
  RETURN s.issues;
END $$;
COMMENT ON FUNCTION bb.sync_repository(text, interval) IS
  'Fetches the repository now (the gitops worker does, this call waits up to timeout) and returns the ids of the issues it created; '
  'raises the fetch error (also kept in bb.repositories.last_error).';

---------------------------------------------------------------------------
-- A folder of migration files checked and rolled out from CI
-- (the bb CLI's `bb check` and `bb rollout`; the same file rules as the watcher, states
-- against each target database's changelog instead of a repository's history).
---------------------------------------------------------------------------

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

---------------------------------------------------------------------------
-- Views, grants and row-level security (a developer sees the repositories of their projects;
-- a token is in a user mapping and in no view)
---------------------------------------------------------------------------

CREATE VIEW bb.repositories WITH (security_invoker = true) AS
  SELECT r.name, p.name AS project, r.url, r.branch, r.path, r.poll, r.targets,
         r.allow_out_of_order, r.block_on_error, r.enabled, r.server_name IS NOT NULL AS has_token,
         r.last_commit, r.last_fetch_at AS last_fetch, r.last_error, r.failures AS failed_fetches, r.last_warning,
         CASE WHEN r.enabled THEN r.next_fetch_at END AS next_fetch,
         (SELECT count(*) FROM bb.repository_file f WHERE f.repository_id = r.id AND f.deleted_at IS NULL) AS files,
         r.created_by, r.created_at
    FROM bb.repository r JOIN bb.project p ON p.id = r.project_id
   ORDER BY r.name;
COMMENT ON VIEW bb.repositories IS
  'Watched git repositories: where, what (branch, path), how often, the last commit seen, the last fetch, its error (and how many fetches failed in a row) and warning (e.g. a rewritten history).';

CREATE VIEW bb.repository_files WITH (security_invoker = true) AS
  SELECT r.name AS repository, f.path AS file, f.kind, f.version, f.checksum, d.checksum AS applied_checksum,
         CASE WHEN f.state <> 'dispatched' THEN f.state
              WHEN i.id IS NULL OR i.status = 'done' THEN 'applied'
              ELSE 'pending' END AS state,
         CASE WHEN f.state <> 'dispatched' THEN f.why
              WHEN i.id IS NULL OR i.status = 'done' THEN NULL
              WHEN i.status = 'canceled' THEN
                format('issue %s was canceled; a file is dispatched once: apply it by hand or put the change in a new version', i.id)
              ELSE format('issue %s %s', i.id, CASE bb._issue_state(i.id) WHEN 'waiting_approval' THEN 'waits for approval'
                                                  WHEN 'failed' THEN 'failed (see bb.tasks; bb.retry)'
                                                  ELSE 'is rolling out' END)
         END AS why,
         d.issue_id AS issue, f.commit, f.author, f.committed_at, d.commit AS applied_commit, d.author AS applied_author,
         f.size, f.seen_at, f.deleted_at
    FROM bb.repository_file f
    JOIN bb.repository r ON r.id = f.repository_id
    LEFT JOIN LATERAL (SELECT x.checksum, x.issue_id, x.commit, x.author FROM bb.repository_dispatch x
                        WHERE x.file_id = f.id ORDER BY x.id DESC LIMIT 1) d ON true
    LEFT JOIN bb.issue i ON i.id = d.issue_id
   ORDER BY r.name, f.kind = 'other', f.kind = 'repeatable', bb._version_key(f.version), f.path;
COMMENT ON VIEW bb.repository_files IS
  'Files of watched repositories: kind (versioned, repeatable, other), version, checksum (and the one applied), state (applied, pending, '
  'modified-after-apply, out-of-order, ignored, deleted) with why, the issue, the commit and author of the content.';

CREATE VIEW bb.repository_syncs WITH (security_invoker = true) AS
  SELECT s.id, r.name AS repository, s.trigger, s.started_at, s.finished_at, s.commit_before, s.commit_after,
         s.rewritten, s.files, s.issues, s.error, s.error_code, s.warning
    FROM bb.repository_sync s JOIN bb.repository r ON r.id = s.repository_id
   ORDER BY s.id;
COMMENT ON VIEW bb.repository_syncs IS
  'Fetches that changed something, failed, warned or were requested (bb.sync_repository): commits before and after, issues created, error.';

GRANT SELECT ON bb.repository, bb.repository_file, bb.repository_dispatch, bb.repository_sync,
  bb.repositories, bb.repository_files, bb.repository_syncs
  TO bytebase_admin, bytebase_approver, bytebase_developer;

ALTER TABLE bb.repository ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.repository_file ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.repository_dispatch ENABLE ROW LEVEL SECURITY;
ALTER TABLE bb.repository_sync ENABLE ROW LEVEL SECURITY;

CREATE POLICY visible ON bb.repository FOR SELECT
  USING ((SELECT bb._sees_all()) OR project_id = ANY ((SELECT bb._my_projects())::bigint[]));
CREATE POLICY visible ON bb.repository_file FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.repository r WHERE r.id = repository_id));
CREATE POLICY visible ON bb.repository_sync FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.repository r WHERE r.id = repository_id));
CREATE POLICY visible ON bb.repository_dispatch FOR SELECT
  USING ((SELECT bb._sees_all()) OR EXISTS (SELECT 1 FROM bb.repository_file f WHERE f.id = file_id));
