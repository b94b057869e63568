#!/usr/bin/env python3
"""snowflake_double.py — a TEST DOUBLE of the Snowflake SQL API v2, written for the tests
(test/integration/14_drivers_snowflake.sh).  It is not Snowflake: it implements the HTTP
contract the driver relies on (endpoints, status codes, key-pair JWT checks) and a tiny
catalog (databases, schemas, tables, columns) that a few DDL forms change, so sync and
rollouts can be asserted.  What it proves and does not: see README ("Engines and what
tests them").

  python3 snowflake_double.py --port P --cert C --key K --pubkey USER_PUB.pem \
      --account ACCT --user USER --log LOGFILE

Endpoints: POST /api/v2/statements?requestId=..., GET /api/v2/statements/<h>[?partition=N],
POST /api/v2/statements/<h>/cancel.  Auth: Authorization: Bearer <RS256 JWT> with
X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT; iss = ACCT.USER.SHA256:<fp>, sub =
ACCT.USER, exp in the future and at most one hour after iat (else 401, Snowflake's code
390144).  Statements understood (case-insensitive, unquoted names upper-cased):
  SELECT CURRENT_VERSION() | SHOW DATABASES | CREATE/DROP DATABASE n |
  CREATE TABLE [s.]t (c type [NOT NULL] [DEFAULT x], ...) | ALTER TABLE t ADD [COLUMN] c type |
  DROP TABLE t | INSERT INTO t ... VALUES (..), (..) | SELECT COUNT(*) FROM t |
  the driver's INFORMATION_SCHEMA snapshot query |
  SELECT SYSTEM$WAIT(n)        202 until n seconds passed (polling; cancel stops it)
  SELECT SLOW(n)               the answer itself takes n seconds (a slow server)
  SELECT PARTS(n)              3 partitions of n rows each (id, label)
  SELECT BROKEN_PARTS(n)       same, partition 2 answers 500
  SELECT THROTTLED(n)          429 for the first n submissions of this text, then 200
  SELECT TIMEOUT()             408
  SELECT HTML()                500 with an HTML page
Anything else is a 422 syntax error (code 001003, sqlState 42000).  Every request, cancel
and auth failure is appended to --log (statements and handles, never headers or tokens).
"""
import argparse, base64, hashlib, json, re, ssl, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

LOCK = threading.Lock()
DBS = {}            # db -> schema -> table -> [ {name, type, nullable, default} ]
RUNNING = {}        # handle -> {"until": t, "canceled": bool, "answer": (status, body)}
RESULTS = {}        # handle -> (rows, ncols, broken) for partitions
THROTTLE = {}       # statement text -> 429s sent so far
ARGS = None


def log(line):
    with LOCK, open(ARGS.log, "a") as f:
        f.write(line.replace("\n", " ") + "\n")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_jwt(headers):
    """None when the request is authenticated, else the reason (Snowflake answers 401)."""
    if headers.get("X-Snowflake-Authorization-Token-Type") != "KEYPAIR_JWT":
        return "missing X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT"
    auth = headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return "missing bearer token"
    parts = auth[7:].split(".")
    if len(parts) != 3:
        return "malformed JWT"
    try:
        head = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        sig = b64url_decode(parts[2])
    except Exception:
        return "malformed JWT"
    if head.get("alg") != "RS256":
        return "JWT alg is not RS256"
    pub = serialization.load_pem_public_key(open(ARGS.pubkey, "rb").read())
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()
    who = ARGS.account.upper() + "." + ARGS.user.upper()
    if claims.get("sub") != who:
        return "sub is not " + who
    if claims.get("iss") != who + "." + fp:
        return "iss does not name the registered public key's fingerprint"
    try:
        pub.verify(sig, (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return "JWT signature does not verify with the registered public key"
    now = time.time() + ARGS.clock_skew
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        return "iat/exp missing"
    if exp <= now:
        return "JWT expired"
    if exp - iat > 3600:
        return "JWT lifetime over one hour"
    return None


def ident(s):
    s = s.strip()
    return s[1:-1].replace('""', '"') if s.startswith('"') else s.upper()


def err422(code, state, msg, handle):
    return 422, {"code": code, "sqlState": state, "message": msg, "statementHandle": handle}


def result(rows, names, handle, partitions=1):
    return 200, {
        "resultSetMetaData": {"numRows": len(rows) * partitions, "format": "jsonv2",
                              "rowType": [{"name": n, "type": "text", "nullable": True} for n in names],
                              "partitionInfo": [{"rowCount": len(rows)}] * partitions},
        "data": rows, "code": "090001", "statementStatusUrl": "/api/v2/statements/" + handle,
        "sqlState": "00000", "statementHandle": handle, "message": "Statement executed successfully."}


def dml(n, handle):
    st, body = result([[str(n)]], ["number of rows inserted"], handle)
    body["stats"] = {"numRowsInserted": n}
    return st, body


def split_top(s):
    """Splits on commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def column_def(text):
    m = re.match(r'\s*("[^"]+"|\w+)\s+(\w+(?:\s*\([\d,\s]+\))?)(.*)$', text, re.S | re.I)
    if not m:
        return None
    typ, rest = m.group(2).upper().replace(" ", ""), m.group(3)
    base = re.match(r"\w+", typ).group(0)
    size = re.search(r"\(([\d,]+)\)", typ)
    if base in ("INT", "INTEGER", "BIGINT", "NUMBER", "NUMERIC", "DECIMAL"):
        typ = "NUMBER(%s)" % (size.group(1) if size and "," in size.group(1) else (size.group(1) + ",0") if size else "38,0")
    elif base in ("VARCHAR", "STRING", "TEXT"):
        typ = "TEXT(%s)" % (size.group(1) if size else "16777216")
    dflt = re.search(r"DEFAULT\s+('[^']*'|\S+)", rest, re.I)
    return {"name": ident(m.group(1)), "type": typ, "nullable": "NO" if re.search(r"NOT\s+NULL", rest, re.I) else "YES",
            "default": dflt.group(1) if dflt else None}


def table_ref(name, req):
    parts = [ident(p) for p in re.findall(r'"[^"]+"|[^.\s]+', name)]
    db = ident(req.get("database") or "") if len(parts) < 3 else parts[0]
    schema = parts[-2] if len(parts) >= 2 else ident(req.get("schema") or "PUBLIC")
    return db, schema, parts[-1]


def run(sql, req, handle):
    """(status, body) of one statement; may register long-running work in RUNNING."""
    s = sql.strip().rstrip(";").strip()
    u = s.upper()
    if u == "SELECT CURRENT_VERSION()":
        return result([["8.40.1"]], ["CURRENT_VERSION()"], handle)
    if u == "SHOW DATABASES":
        with LOCK:
            rows = [["2026-01-01 00:00:00", d, "N", "N", "", "BB_USER", "", "", "1", "STANDARD"] for d in sorted(DBS)]
        return result(rows, ["created_on", "name", "is_default", "is_current", "origin", "owner", "comment",
                             "options", "retention_time", "kind"], handle)
    m = re.match(r"SELECT SYSTEM\$WAIT\((\d+)\)$", u)
    if m:
        with LOCK:
            RUNNING[handle] = {"until": time.time() + int(m.group(1)), "canceled": False,
                               "answer": result([["waited " + m.group(1) + " seconds"]], ["SYSTEM$WAIT"], handle)}
        return 202, {"code": "333334", "message": "Asynchronous execution in progress. Use provided query id to "
                     "perform query monitoring and management.", "statementHandle": handle,
                     "statementStatusUrl": "/api/v2/statements/" + handle}
    m = re.match(r"SELECT SLOW\((\d+)\)$", u)
    if m:
        time.sleep(int(m.group(1)))
        return result([["slow"]], ["SLOW"], handle)
    m = re.match(r"SELECT (BROKEN_)?PARTS\((\d+)\)$", u)
    if m:
        n = int(m.group(2))
        rows = [[[str(p * n + i), "row %d" % (p * n + i)] for i in range(n)] for p in range(3)]
        with LOCK:
            RESULTS[handle] = (rows, bool(m.group(1)))
        return result(rows[0], ["ID", "LABEL"], handle, partitions=3)
    m = re.match(r"SELECT THROTTLED\((\d+)\)$", u)
    if m:
        with LOCK:
            seen = THROTTLE.get(s, 0)
            THROTTLE[s] = seen + 1
        if seen < int(m.group(1)):
            return 429, {"code": "000429", "message": "Too many requests"}
        return result([["after %d throttled" % seen]], ["THROTTLED"], handle)
    if u == "SELECT TIMEOUT()":
        return 408, {"code": "000630", "sqlState": "57014", "message": "Statement reached its statement or warehouse timeout of 1 second(s) and was canceled.",
                     "statementHandle": handle}
    if u == "SELECT HTML()":
        return 500, "<html><body><h1>502 Bad Gateway</h1></body></html>"
    if "INFORMATION_SCHEMA.COLUMNS" in u:
        m = re.search(r'FROM\s+("(?:[^"]|"")+")\.INFORMATION_SCHEMA', s, re.I)
        db = ident(m.group(1)) if m else ""
        with LOCK:
            if db not in DBS:
                return err422("002003", "02000", "SQL compilation error:\nDatabase '%s' does not exist or not authorized." % db, handle)
            rows = [[sch, t, c["name"], c["type"], c["nullable"], c["default"]]
                    for sch in sorted(DBS[db]) for t in sorted(DBS[db][sch]) for c in DBS[db][sch][t]]
        return result(rows, ["TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME", "TYPE", "IS_NULLABLE", "COLUMN_DEFAULT"], handle)
    m = re.match(r'CREATE DATABASE\s+(IF NOT EXISTS\s+)?("[^"]+"|\w+)$', s, re.I)
    if m:
        with LOCK:
            d = ident(m.group(2))
            if d in DBS and not m.group(1):
                return err422("002002", "42710", "SQL compilation error:\nObject '%s' already exists." % d, handle)
            DBS.setdefault(d, {"PUBLIC": {}})
        return result([["Database %s successfully created." % d]], ["status"], handle)
    m = re.match(r'DROP DATABASE\s+(IF EXISTS\s+)?("[^"]+"|\w+)$', s, re.I)
    if m:
        with LOCK:
            DBS.pop(ident(m.group(2)), None)
        return result([["dropped"]], ["status"], handle)
    m = re.match(r'CREATE TABLE\s+([\w."]+)\s*\((.*)\)$', s, re.I | re.S)
    if m:
        db, sch, t = table_ref(m.group(1), req)
        cols = [column_def(c) for c in split_top(m.group(2))]
        if None in cols or not cols:
            return err422("001003", "42000", "SQL compilation error:\nsyntax error line 1 at position 13 unexpected '('.", handle)
        with LOCK:
            if db not in DBS or sch not in DBS[db]:
                return err422("002003", "02000", "SQL compilation error:\nSchema '%s.%s' does not exist or not authorized." % (db, sch), handle)
            if t in DBS[db][sch]:
                return err422("002002", "42710", "SQL compilation error:\nObject '%s' already exists." % t, handle)
            DBS[db][sch][t] = cols
        return result([["Table %s successfully created." % t]], ["status"], handle)
    m = re.match(r'(ALTER TABLE|DROP TABLE|INSERT INTO|SELECT COUNT\(\*\) FROM)\s+([\w."]+)(.*)$', s, re.I | re.S)
    if m:
        verb = m.group(1).upper()
        db, sch, t = table_ref(m.group(2), req)
        with LOCK:
            tables = DBS.get(db, {}).get(sch, {})
            if t not in tables:
                return err422("002003", "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized." % t, handle)
            if verb == "DROP TABLE":
                del tables[t]
                return result([["%s successfully dropped." % t]], ["status"], handle)
            if verb == "ALTER TABLE":
                a = re.match(r"\s*ADD\s+(COLUMN\s+)?(.*)$", m.group(3), re.I | re.S)
                col = column_def(a.group(2)) if a else None
                if col is None:
                    return err422("001003", "42000", "SQL compilation error:\nsyntax error line 1 unexpected '%s'." % m.group(3).strip()[:20], handle)
                if any(c["name"] == col["name"] for c in tables[t]):
                    return err422("002025", "42S21", "SQL compilation error:\ncolumn '%s' already exists" % col["name"], handle)
                tables[t].append(col)
                return result([["Statement executed successfully."]], ["status"], handle)
            if verb == "INSERT INTO":
                vals = re.split(r"VALUES", m.group(3), 1, flags=re.I)
                n = len(split_top(vals[1])) if len(vals) == 2 else 0
                ROWS[(db, sch, t)] = ROWS.get((db, sch, t), 0) + n
                return dml(n, handle)
            return result([[str(ROWS.get((db, sch, t), 0))]], ["COUNT(*)"], handle)
    word = s.split()[0][:30] if s else ""
    return err422("001003", "42000", "SQL compilation error:\nsyntax error line 1 at position 0 unexpected '%s'." % word, handle)


ROWS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body, extra=None):
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def authed(self):
        why = check_jwt(self.headers)
        if why:
            log("401 " + why)
            self.answer(401, {"code": "390144", "message": "JWT token is invalid. [%s]" % why})
            return False
        return True

    def do_POST(self):
        url = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        if not self.authed():
            return
        m = re.match(r"^/api/v2/statements/([\w-]+)/cancel$", url.path)
        if m:
            with LOCK:
                r = RUNNING.get(m.group(1))
                if r:
                    r["canceled"] = True
            log("cancel " + m.group(1))
            return self.answer(200, {"code": "000604", "message": "Statement canceled.", "statementHandle": m.group(1)})
        if url.path != "/api/v2/statements":
            return self.answer(404, {"code": "000404", "message": "not found"})
        q = parse_qs(url.query)
        if "requestId" not in q:
            return self.answer(400, {"code": "391903", "message": "requestId is missing"})
        try:
            req = json.loads(body)
        except Exception:
            return self.answer(400, {"code": "391908", "message": "The request body is not valid JSON."})
        if str(req.get("parameters", {}).get("MULTI_STATEMENT_COUNT", "1")) != "1":
            return self.answer(422, {"code": "000008", "sqlState": "0A000", "message": "unexpected MULTI_STATEMENT_COUNT"})
        handle = str(uuid.uuid4())
        sql = req.get("statement", "")
        log("statement db=%s wh=%s role=%s timeout=%s: %s" % (req.get("database"), req.get("warehouse"),
                                                              req.get("role"), req.get("timeout"), sql))
        status, answer = run(sql, req, handle)
        self.answer(status, answer, {"Retry-After": "0"} if status == 429 else None)

    def do_GET(self):
        url = urlparse(self.path)
        if not self.authed():
            return
        m = re.match(r"^/api/v2/statements/([\w-]+)$", url.path)
        if not m:
            return self.answer(404, {"code": "000404", "message": "not found"})
        h = m.group(1)
        q = parse_qs(url.query)
        if "partition" in q:
            p = int(q["partition"][0])
            with LOCK:
                rows, broken = RESULTS.get(h, (None, False))
            log("partition %d of %s" % (p, h))
            if rows is None or p >= len(rows):
                return self.answer(422, {"code": "000709", "message": "Statement %s not found" % h})
            if broken and p == 2:
                return self.answer(500, "<html><body>partition storage unavailable</body></html>")
            return self.answer(200, {"data": rows[p]})
        with LOCK:
            r = RUNNING.get(h)
        if r is None:
            return self.answer(422, {"code": "000709", "message": "Statement %s not found" % h})
        log("poll " + h)
        if r["canceled"]:
            return self.answer(422, {"code": "000604", "sqlState": "57014", "message": "SQL execution canceled",
                                     "statementHandle": h})
        if time.time() < r["until"]:
            return self.answer(202, {"code": "333334", "message": "Asynchronous execution in progress.",
                                     "statementHandle": h, "statementStatusUrl": "/api/v2/statements/" + h})
        return self.answer(*r["answer"])


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for a in ("--port", "--cert", "--key", "--pubkey", "--account", "--user", "--log"):
        ap.add_argument(a, required=True)
    ap.add_argument("--clock-skew", type=int, default=0, help="seconds added to the double's clock")
    ap.add_argument("--databases", default="", help="comma-separated databases to start with")
    ARGS = ap.parse_args()
    for d in filter(None, ARGS.databases.split(",")):
        DBS[d] = {"PUBLIC": {}}
    srv = ThreadingHTTPServer(("127.0.0.1", int(ARGS.port)), Handler)
    srv.daemon_threads = True
    srv.handle_error = lambda *a: None     # a client that hangs up mid-answer (a cancel) is normal
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    log("listening")
    srv.serve_forever()


if __name__ == "__main__":
    main()
