-- bytebase 0.2 — governance: change and remove what the catalog API creates (instances and
-- their credentials, projects, environments, database groups) and preview a group.
-- Nothing is removed while something still uses it; every refusal names what uses it.

---------------------------------------------------------------------------
-- Instances
---------------------------------------------------------------------------

-- The value of one option in a catalog options array ('{name=value,...}'), NULL when absent.
CREATE FUNCTION bb._option_value(options text[], name text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT substr(o, length(name) + 2) FROM unnest(options) o WHERE o LIKE name || '=%' LIMIT 1
$$;
COMMENT ON FUNCTION bb._option_value(text[], text) IS
  'Value of option name in a srvoptions / umoptions array, NULL when it is not set.';

-- Points an instance's foreign server at its (new) address; options the server lacks are added.
CREATE FUNCTION bb._set_server_address(instance text, srv name, host text, port int, options jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE s record; wanted text[][]; opts text := ''; i int;
BEGIN
  SELECT fs.srvoptions, w.fdwname INTO s
    FROM pg_foreign_server fs JOIN pg_foreign_data_wrapper w ON w.oid = fs.srvfdw
   WHERE fs.srvname = srv;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'foreign server "%" of instance "%" is missing', srv, instance
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Drop the instance with bb.drop_instance() and register it again with bb.add_instance().';
  END IF;
  wanted := ARRAY[ARRAY['host', host], ARRAY['port', port::text]];
  IF s.fdwname = 'postgres_fdw' THEN
    wanted := wanted || ARRAY[ARRAY['dbname', coalesce(options->>'database', 'postgres')]];
  END IF;
  FOR i IN 1 .. array_length(wanted, 1) LOOP
    opts := opts || CASE WHEN opts = '' THEN '' ELSE ', ' END
            || CASE WHEN bb._option_value(s.srvoptions, wanted[i][1]) IS NULL THEN 'ADD ' ELSE 'SET ' END
            || format('%I %L', wanted[i][1], wanted[i][2]);
  END LOOP;
  EXECUTE format('ALTER SERVER %I OPTIONS (%s)', srv, opts);
END $$;
COMMENT ON FUNCTION bb._set_server_address(text, name, text, int, jsonb) IS
  'Sets host, port (and dbname for postgres_fdw servers) of an instance''s foreign server.';

CREATE FUNCTION bb.alter_instance(name text, host text DEFAULT NULL, port int DEFAULT NULL,
                                  username text DEFAULT NULL, password text DEFAULT NULL,
                                  options jsonb DEFAULT NULL, verify boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  inst bb.instance;
  mapping text[];
  saved_log_level text;
BEGIN
  -- the calling statement may hold a password: keep it out of the server log if this call fails
  saved_log_level := current_setting('log_min_error_statement');
  PERFORM set_config('log_min_error_statement', 'panic', true);
  PERFORM bb._audit('alter_instance', jsonb_build_object('name', name, 'host', host, 'port', port,
    'username', username, 'password', CASE WHEN password IS NOT NULL THEN '<redacted>' END,
    'options', options, 'verify', verify));
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._not_null('verify', verify);
  SELECT * INTO inst FROM bb.instance i
   WHERE i.id = bb._instance_id(bb._not_null('instance', alter_instance.name)) FOR UPDATE;

  inst.host := coalesce(host, inst.host);
  inst.port := coalesce(port, inst.port);
  inst.options := coalesce(options, inst.options);
  PERFORM bb._check_instance_address(inst.engine, inst.host, inst.port, inst.options);
  PERFORM bb._set_server_address(inst.name, inst.server_name, inst.host, inst.port, inst.options);

  IF username IS NOT NULL OR password IS NOT NULL THEN
    -- rotate: what is not given is kept from the current mapping
    SELECT m.umoptions INTO mapping FROM pg_user_mappings m
     WHERE m.srvname = inst.server_name AND m.umuser = 0;
    PERFORM bb._store_credentials(inst.name, inst.server_name,
                                  coalesce(username, bb._option_value(mapping, 'user')),
                                  coalesce(password, bb._option_value(mapping, 'password')), true);
  END IF;

  UPDATE bb.instance i SET host = inst.host, port = inst.port, options = inst.options WHERE i.id = inst.id;
  IF verify THEN
    PERFORM bb._verify_instance(inst.name);   -- its error rolls back everything above
  END IF;
  PERFORM set_config('log_min_error_statement', saved_log_level, true);
END $$;
COMMENT ON FUNCTION bb.alter_instance(text, text, int, text, text, jsonb, boolean) IS
  'Changes an instance''s address, options (replaced as a whole) and credentials (NULL keeps a value); '
  'the foreign server and its user mapping follow. Connects once to check the result (verify => false skips it) '
  'and changes nothing if that fails. The password is never logged or audited.';

-- Tasks of an instance's databases that still have work to do: waiting, running, or failed in
-- an issue that is not closed (a retry would run them).
CREATE FUNCTION bb._unfinished_issues(databases bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT t.issue_id ORDER BY t.issue_id), '{}')
    FROM bb.task t JOIN bb.issue i ON i.id = t.issue_id
   WHERE t.database_id = ANY (databases)
     AND (t.status IN ('pending_approval', 'pending', 'running')
          OR (t.status = 'failed' AND i.status IN ('open', 'failed')))
$$;
COMMENT ON FUNCTION bb._unfinished_issues(bigint[]) IS
  'Issues with a task on one of the databases that waits, runs, or failed and may be retried.';

-- Removes the tasks and changelog of databases; stages and issues left without tasks go too.
CREATE FUNCTION bb._drop_history(databases bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE issues bigint[]; iss bigint;
BEGIN
  issues := ARRAY(SELECT DISTINCT t.issue_id FROM bb.task t WHERE t.database_id = ANY (databases) ORDER BY 1);
  PERFORM 1 FROM bb.task t WHERE t.issue_id = ANY (issues) ORDER BY t.id FOR UPDATE;   -- task rows, then issues
  PERFORM 1 FROM bb.issue i WHERE i.id = ANY (issues) ORDER BY i.id FOR UPDATE;
  DELETE FROM bb.changelog_entry c WHERE c.database_id = ANY (databases);
  DELETE FROM bb.task t WHERE t.database_id = ANY (databases);
  DELETE FROM bb.stage s WHERE s.issue_id = ANY (issues)
     AND NOT EXISTS (SELECT 1 FROM bb.task t WHERE t.stage_id = s.id);
  DELETE FROM bb.issue i WHERE i.id = ANY (issues)
     AND NOT EXISTS (SELECT 1 FROM bb.task t WHERE t.issue_id = i.id);
  FOREACH iss IN ARRAY issues LOOP
    PERFORM bb._refresh_issue(iss);   -- issues that keep tasks on other databases
  END LOOP;
END $$;
COMMENT ON FUNCTION bb._drop_history(bigint[]) IS
  'Deletes the tasks (with their runs and checks) and changelog entries of the databases, and the stages and issues left empty.';

CREATE FUNCTION bb.drop_instance(name text, cascade boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  inst bb.instance;
  dbs bigint[];
  busy bigint[];
  n_tasks bigint;
  n_changes bigint;
  n_tables bigint;
  tbl text;
  m record;
BEGIN
  PERFORM bb._audit('drop_instance', jsonb_build_object('name', name, 'cascade', cascade));
  PERFORM bb._require('bytebase_admin');
  PERFORM bb._not_null('cascade', cascade);
  SELECT * INTO inst FROM bb.instance i
   WHERE i.id = bb._instance_id(bb._not_null('instance', drop_instance.name)) FOR UPDATE;
  -- locked: no new task can be planned on these databases until this transaction ends
  dbs := ARRAY(SELECT d.id FROM bb.database d WHERE d.instance_id = inst.id ORDER BY d.id FOR UPDATE);

  busy := bb._unfinished_issues(dbs);
  IF cardinality(busy) > 0 THEN
    RAISE EXCEPTION 'instance "%" has unfinished tasks', inst.name USING ERRCODE = 'object_in_use',
      DETAIL = format('Issues with tasks that wait, run or may be retried on its databases: %s.',
                      array_to_string(busy[1:20], ', ') || CASE WHEN cardinality(busy) > 20 THEN ', ...' ELSE '' END),
      HINT = 'Cancel those issues with bb.cancel(issue) or wait until they finish; see bb.tasks.';
  END IF;
  SELECT count(*) INTO n_tasks FROM bb.task t WHERE t.database_id = ANY (dbs);
  SELECT count(*) INTO n_changes FROM bb.changelog_entry c WHERE c.database_id = ANY (dbs);
  IF (n_tasks > 0 OR n_changes > 0) AND NOT cascade THEN
    RAISE EXCEPTION 'instance "%" has history: % task(s) and % changelog entr%', inst.name, n_tasks, n_changes,
      CASE WHEN n_changes = 1 THEN 'y' ELSE 'ies' END
      USING ERRCODE = 'dependent_objects_still_exist',
            HINT = 'Pass cascade => true to drop the instance together with the tasks and changelog of its databases.';
  END IF;
  SELECT count(*) INTO n_tables FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver
   WHERE s.srvname = inst.server_name;
  IF n_tables > 0 THEN
    RAISE EXCEPTION 'foreign server "%" of instance "%" still has % foreign table(s)', inst.server_name, inst.name, n_tables
      USING ERRCODE = 'dependent_objects_still_exist',
            HINT = format('Drop them first: SELECT ftrelid::regclass FROM pg_foreign_table WHERE ftserver = %L::regserver;',
                          inst.server_name);
  END IF;

  IF cascade THEN
    PERFORM bb._drop_history(dbs);
  END IF;
  BEGIN
    DELETE FROM bb.instance i WHERE i.id = inst.id;        -- its databases go with it
  EXCEPTION WHEN foreign_key_violation THEN
    GET STACKED DIAGNOSTICS tbl = TABLE_NAME;
    RAISE EXCEPTION 'instance "%" or one of its databases is in use by bb.%', inst.name, tbl
      USING ERRCODE = 'object_in_use', HINT = 'Remove what refers to them first.';
  END;
  -- the credentials go with the server: every user mapping of it, then the server
  FOR m IN SELECT um.usename FROM pg_user_mappings um WHERE um.srvname = inst.server_name LOOP
    EXECUTE format('DROP USER MAPPING FOR %s SERVER %I',
                   CASE WHEN m.usename = 'public' THEN 'PUBLIC' ELSE quote_ident(m.usename) END, inst.server_name);
  END LOOP;
  EXECUTE format('DROP SERVER IF EXISTS %I', inst.server_name);
  IF n_tasks > 0 OR n_changes > 0 THEN
    RAISE NOTICE 'dropped instance "%" with % database(s), % task(s) and % changelog entr%', inst.name,
      cardinality(dbs), n_tasks, n_changes, CASE WHEN n_changes = 1 THEN 'y' ELSE 'ies' END;
  END IF;
END $$;
COMMENT ON FUNCTION bb.drop_instance(text, boolean) IS
  'Removes an instance with its databases, its foreign server and every user mapping (its credentials). Refused while '
  'tasks on its databases are unfinished; when its databases have tasks or changelog, only with cascade => true, which removes them too.';

---------------------------------------------------------------------------
-- Projects and environments
---------------------------------------------------------------------------

-- "3 databases, 1 issue": what still uses an object, for refusals.
CREATE FUNCTION bb._uses(counts json) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT string_agg(format('%s %s', e.value, CASE WHEN e.value::bigint = 1 THEN rtrim(e.key, 's') ELSE e.key END),
                    ', ' ORDER BY e.ordinality)
    FROM json_each_text(counts) WITH ORDINALITY e(key, value, ordinality) WHERE e.value::bigint > 0
$$;
COMMENT ON FUNCTION bb._uses(json) IS
  'Describes non-zero counts of users of an object (e.g. {"databases": 3, "issues": 1} -> ''3 databases, 1 issue'').';

CREATE FUNCTION bb.drop_project(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint; uses text; tbl text;
BEGIN
  PERFORM bb._audit('drop_project', jsonb_build_object('name', name));
  PERFORM bb._require('bytebase_admin');
  proj := bb._project_id(bb._not_null('project', name));
  PERFORM 1 FROM bb.project p WHERE p.id = proj FOR UPDATE;
  uses := bb._uses(json_build_object(
    'databases', (SELECT count(*) FROM bb.database d WHERE d.project_id = proj),
    'issues', (SELECT count(*) FROM bb.issue i WHERE i.project_id = proj)));
  IF uses IS NOT NULL THEN
    RAISE EXCEPTION 'project "%" is in use: %', name, uses USING ERRCODE = 'object_in_use',
      HINT = 'Move its databases to another project with bb.assign_database(); a project with issues keeps their history and cannot be dropped.';
  END IF;
  BEGIN
    DELETE FROM bb.project p WHERE p.id = proj;    -- its members and database groups go with it
  EXCEPTION WHEN foreign_key_violation THEN
    GET STACKED DIAGNOSTICS tbl = TABLE_NAME;
    RAISE EXCEPTION 'project "%" is in use by bb.%', name, tbl USING ERRCODE = 'object_in_use',
      HINT = 'Remove what refers to the project first.';
  END;
END $$;
COMMENT ON FUNCTION bb.drop_project(text) IS
  'Removes a project with its members and database groups; refused while databases or issues belong to it.';

CREATE FUNCTION bb.drop_environment(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE env bigint; pos int; uses text; tbl text;
BEGIN
  PERFORM bb._audit('drop_environment', jsonb_build_object('name', name));
  PERFORM bb._require('bytebase_admin');
  env := bb._environment_id(bb._not_null('environment', name));
  LOCK TABLE bb.environment IN SHARE ROW EXCLUSIVE MODE;  -- positions stay dense under concurrency
  uses := bb._uses(json_build_object(
    'instances', (SELECT count(*) FROM bb.instance i WHERE i.environment_id = env),
    'databases', (SELECT count(*) FROM bb.database d WHERE d.environment_id = env),
    'issues', (SELECT count(DISTINCT x.issue_id) FROM (
                 SELECT s.issue_id FROM bb.stage s WHERE s.environment_id = env
                 UNION ALL SELECT r.issue_id FROM bb.review_result r WHERE r.environment_id = env) x)));
  IF uses IS NOT NULL THEN
    RAISE EXCEPTION 'environment "%" is in use: %', name, uses USING ERRCODE = 'object_in_use',
      HINT = 'Move its databases elsewhere with bb.assign_database(database, project, environment) and drop its instances '
             'with bb.drop_instance(); an environment that issues went through keeps their history and cannot be dropped.';
  END IF;
  BEGIN
    DELETE FROM bb.environment e WHERE e.id = env RETURNING e.position INTO pos;  -- its review settings go with it
  EXCEPTION WHEN foreign_key_violation THEN
    GET STACKED DIAGNOSTICS tbl = TABLE_NAME;
    RAISE EXCEPTION 'environment "%" is in use by bb.%', name, tbl USING ERRCODE = 'object_in_use',
      HINT = 'Remove what refers to the environment first.';
  END;
  -- close the gap in two steps: the unique position must hold after each row
  UPDATE bb.environment e SET position = -e.position WHERE e.position > pos;
  UPDATE bb.environment e SET position = -e.position - 1 WHERE e.position < 0;
END $$;
COMMENT ON FUNCTION bb.drop_environment(text) IS
  'Removes an environment (with its review settings) and closes the gap in the pipeline; refused while instances, '
  'databases or issues use it.';

---------------------------------------------------------------------------
-- Database groups
---------------------------------------------------------------------------

CREATE FUNCTION bb._database_group(project_id bigint, project text, name text) RETURNS bb.database_group
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE g bb.database_group;
BEGIN
  SELECT * INTO g FROM bb.database_group x
   WHERE x.project_id = _database_group.project_id AND x.name = bb._not_null('database group', _database_group.name);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'database group "%" does not exist in project "%"', bb._clip(name), project
      USING ERRCODE = 'undefined_object', HINT = 'See SELECT project, name FROM bb.database_groups;';
  END IF;
  RETURN g;
END $$;
COMMENT ON FUNCTION bb._database_group(bigint, text, text) IS 'A project''s database group by name; raises undefined_object when unknown.';

CREATE FUNCTION bb.alter_database_group(project text, name text, labels jsonb DEFAULT NULL,
                                        name_pattern text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE g bb.database_group;
BEGIN
  PERFORM bb._audit('alter_database_group', jsonb_build_object('project', project, 'name', name,
    'labels', labels, 'name_pattern', name_pattern));
  PERFORM bb._require('bytebase_admin');
  g := bb._database_group(bb._project_id(bb._not_null('project', project)), project, name);
  g.labels := coalesce(labels, g.labels);
  g.name_pattern := CASE WHEN name_pattern IS NULL THEN g.name_pattern
                         WHEN name_pattern = '' THEN NULL ELSE name_pattern END;
  PERFORM bb._check_group_condition(g.labels, g.name_pattern);
  UPDATE bb.database_group x SET labels = g.labels, name_pattern = g.name_pattern WHERE x.id = g.id;
  IF NOT EXISTS (SELECT 1 FROM bb._group_members(g.id)) THEN
    RAISE NOTICE 'database group "%" matches no database of project "%" now', g.name, project
      USING HINT = 'See bb.databases for the labels and names of the project''s databases.';
  END IF;
END $$;
COMMENT ON FUNCTION bb.alter_database_group(text, text, jsonb, text) IS
  'Changes a database group''s condition: labels and name_pattern (NULL keeps a value, '''' removes the name condition).';

CREATE FUNCTION bb.drop_database_group(project text, name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE g bb.database_group;
BEGIN
  PERFORM bb._audit('drop_database_group', jsonb_build_object('project', project, 'name', name));
  PERFORM bb._require('bytebase_admin');
  g := bb._database_group(bb._project_id(bb._not_null('project', project)), project, name);
  DELETE FROM bb.database_group x WHERE x.id = g.id;   -- issues planned from it keep their tasks
END $$;
COMMENT ON FUNCTION bb.drop_database_group(text, text) IS
  'Removes a database group; issues already planned from it are not affected.';

CREATE FUNCTION bb.database_group_members(project text, "group" text)
RETURNS TABLE(database text, labels jsonb, environment text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint; g bb.database_group;
BEGIN
  PERFORM bb._require('bytebase_admin', 'bytebase_approver', 'bytebase_developer');
  proj := bb._project_id(bb._not_null('project', project));
  IF NOT bb._sees_project(proj) THEN
    RAISE EXCEPTION 'permission denied: role "%" is not a member of project "%"', bb._caller(), project
      USING ERRCODE = 'insufficient_privilege',
            HINT = format('An admin adds members with SELECT bb.grant_project(%L, %L);', project, bb._caller());
  END IF;
  g := bb._database_group(proj, project, "group");
  RETURN QUERY
    SELECT i.name || '/' || d.name, d.labels, e.name
      FROM bb._group_members(g.id) AS m(id)
      JOIN bb.database d ON d.id = m.id
      JOIN bb.instance i ON i.id = d.instance_id
      LEFT JOIN bb.environment e ON e.id = d.environment_id
     ORDER BY 1;
END $$;
COMMENT ON FUNCTION bb.database_group_members(text, text) IS
  'The databases a group matches now (''instance/database'', labels, environment): a preview of bb.apply''s targets. '
  'For admins and approvers, and for developers in the projects they are members of.';
