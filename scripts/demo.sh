#!/usr/bin/env bash
# `make demo`: migrate, create the development PKI, load demo data, then run a Celery worker
# (with beat) in the background and the web server in the foreground. Safe to re-run: a
# previous demo's processes are stopped first, and every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
RUN=var/run
mkdir -p "$RUN" var/log

stop() {
  for name in web worker; do
    if [ -f "$RUN/$name.pid" ]; then
      pid=$(cat "$RUN/$name.pid")
      if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$RUN/$name.pid"
    fi
  done
}

if [ "${1:-}" = "stop" ]; then stop; exit 0; fi
stop

"$PY" manage.py migrate --noinput
if "$PY" manage.py help init_dev_pki >/dev/null 2>&1; then "$PY" manage.py init_dev_pki; fi
"$PY" manage.py seed_demo

"$PY" -m celery -A config worker -B --loglevel=INFO --concurrency=2 \
  --schedule=var/celerybeat-schedule >var/log/worker.log 2>&1 &
echo $! >"$RUN/worker.pid"

"$PY" - <<'PYEOF'
import json
creds = json.load(open("var/demo-credentials.json"))
print("\n北京市不动产登记电子证照系统 — demo")
print("  admin:        http://127.0.0.1:8000/admin/")
print("  health:       http://127.0.0.1:8000/healthz")
print("  API docs:     http://127.0.0.1:8000/api/docs/")
print("  audit:        http://127.0.0.1:8000/audit/")
print("  worker log:   var/log/worker.log")
print("\nDemo logins (also in var/demo-credentials.json):")
for role, u in creds["users"].items():
    print(f"  {role:16} {u['username']:12} {u['password']}")
for org in creds["organisations"]:
    print(f"  {org['name']} ({org['type']})")
    for key in ("admin", "operator"):
        print(f"    {key:14} {org[key]['username']:16} {org[key]['password']}")
    if "api_key" in org:
        print(f"    {'api key':14} {org['api_key']}")
print()
PYEOF

trap stop EXIT INT TERM
"$PY" manage.py runserver 127.0.0.1:8000 --noreload &
echo $! >"$RUN/web.pid"
wait "$(cat "$RUN/web.pid")"
