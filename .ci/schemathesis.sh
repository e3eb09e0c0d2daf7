#!/usr/bin/env bash
# A bounded schemathesis run over the whole API: every phase (examples, coverage, fuzzing and
# stateful sequences of calls), a fixed seed and a fixed number of examples per operation,
# against the app served by gunicorn on a fresh PostgreSQL database loaded with the demo agency.
# It fails on any 5xx, on any status code, content type or body the OpenAPI schema does not
# describe, and on any request the schema calls invalid that the API accepts.
#
#   bash .ci/schemathesis.sh                      # what CI runs
#   bash .ci/schemathesis.sh --max-examples 5     # extra options go to `schemathesis run`
#
# SCHEMATHESIS_DB names the database (dropped and created again; default `schemathesis`),
# SCHEMATHESIS_PG_SERVER the PostgreSQL server, SCHEMATHESIS_SEED and
# SCHEMATHESIS_MAX_EXAMPLES the generation bounds.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
SEED="${SCHEMATHESIS_SEED:-8}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
PG_SERVER="${SCHEMATHESIS_PG_SERVER:-postgres://root@127.0.0.1:5432}"
DB_NAME="${SCHEMATHESIS_DB:-schemathesis}"
# A hard stop in case the API hangs; a run takes about a minute and a half on an idle machine.
WALL_SECONDS="${SCHEMATHESIS_WALL_SECONDS:-600}"
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance
CHECKS+=,response_schema_conformance,response_headers_conformance,negative_data_rejection
CHECKS+=,unsupported_method,allow_header_conformance,missing_required_header,ignored_auth
CHECKS+=,use_after_free,ensure_resource_availability

VAR_DIR="$(mktemp -d)"
SERVER_PID=""
psql_admin() {
  PGOPTIONS=--client-min-messages=warning psql "$PG_SERVER/postgres" -q -v ON_ERROR_STOP=1 "$@"
}
stop() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  psql_admin -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" || true
  rm -rf "$VAR_DIR"
}
trap stop EXIT

# Production-like settings (DEBUG off: clients get the real error answers) without HTTPS
# redirects, background runner or outgoing mail, all explicit so that nothing `make run`
# created is needed.
export DATABASE_URL="$PG_SERVER/$DB_NAME"
export CLIENTLEDGER_VAR_DIR="$VAR_DIR"
SECRET_KEY="schemathesis-$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"
export SECRET_KEY
export DEBUG=false HTTPS=false RUN_EMBEDDED_RUNNER=false CLIENTLEDGER_TESTING=false
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend LOG_LEVEL=ERROR

psql_admin -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" -c "CREATE DATABASE \"$DB_NAME\""
"$BIN/clientledger" migrate --noinput -v 0
"$BIN/clientledger" demo >/dev/null
TOKEN="$("$BIN/clientledger" api-token --email owner@brightside.example)"

PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The request line is not capped at gunicorn's 4 KB, so that every generated request (long query
# strings included) reaches the app: the API's answers are under test, not gunicorn's.
"$BIN/gunicorn" --config config/gunicorn.py --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
  --limit-request-line 0 --access-logfile /dev/null >"$VAR_DIR/server.log" 2>&1 &
SERVER_PID=$!

# One schemathesis worker: with several, hypothesis parses source in parallel threads, which
# Python 3.11's ast module does not survive ("AST constructor recursion depth mismatch").
status=0
timeout "$WALL_SECONDS" "$BIN/schemathesis" --config-file .ci/schemathesis.toml \
  run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --wait-for-schema 30 \
  --header "Authorization: Bearer $TOKEN" \
  --phases examples,coverage,fuzzing,stateful \
  --checks "$CHECKS" \
  --seed "$SEED" \
  --max-examples "$MAX_EXAMPLES" \
  --workers 1 \
  --no-color \
  "$@" || status=$?

if [ "$status" -ne 0 ] && [ -s "$VAR_DIR/server.log" ]; then
  printf '\n--- server log ---\n'
  cat "$VAR_DIR/server.log"
fi
exit "$status"
