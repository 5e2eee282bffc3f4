#!/usr/bin/env bash
# Registration benchmark: `rvoip registrar` against Kamailio's registrar,
# both with digest authentication (MD5, qop=auth), driven by the same SIPp
# scenario (sipp/register-auth.xml: REGISTER, 401, REGISTER with
# Authorization, 200) in the same run, on loopback.
#
#   bench/registrar.sh            # needs sipp and kamailio (Debian packages)
#
# Reports for each server:
#   - the highest failure-free rate: the fastest of RATES at which SIPp
#     completes RUN_SECONDS of registrations with no failed call and no
#     retransmission, with the rate SIPp achieved (it can fall short of
#     the target when SIPp itself runs out of CPU);
#   - CPU-seconds per 10,000 registrations at CPU_RATE, read from the
#     server processes' own counters (/proc/PID/stat utime+stime, every
#     Kamailio process summed), CPU_REPS rounds taking the servers in turn
#     (this VM's speed drifts by tens of percent within minutes), medians;
#   - memory per binding: the growth of the servers' proportional set size
#     (PSS; Kamailio's usrloc lives in shared memory, so summing RSS over its
#     processes would count it many times) over MEM_USERS new bindings,
#     read SETTLE seconds after the load so that what only lives while a
#     request is handled is gone and only the bindings remain (rvoip answers
#     REGISTER statelessly, as Kamailio does, so no 32-s Timer J state).
# Users: USERS for the rate and CPU runs, MEM_USERS for memory; every
# server has all of them (rvoip in SQLite by `rvoip user import --sip-only`,
# Kamailio in an htable loaded from db_text), with HA1 values only.
# Servers, like for like in pairs: Kamailio (usrloc in memory only,
# db_mode 0) and rvoip-mem (`[location] store = "memory"`); kamailio-db
# (usrloc written back to SQLite every second: db_mode 2, timer_interval 1,
# WAL) and rvoip with its defaults (bindings in memory, written behind to
# SQLite every second, so they survive a restart). All four run at once,
# each on its own port, and are measured one after the other; each is
# reported against Kamailio, and rvoip's defaults also against kamailio-db.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-10000}
MEM_USERS=${MEM_USERS:-100000}
RATES=${RATES:-"2000 4000 6000 8000 10000 12000 14000 16000 20000 25000"}
RUN_SECONDS=${RUN_SECONDS:-5}
CPU_RATE=${CPU_RATE:-2000}
CPU_REPS=${CPU_REPS:-3}
SETTLE=${SETTLE:-40}
KPORT=${KPORT:-25060}
RPORT=${RPORT:-25070}
MPORT=${MPORT:-25080}
DPORT=${DPORT:-25090}
RVOIP_STORE=${RVOIP_STORE:-}
WORK=$(mktemp -d /tmp/rvoip-bench-registrar.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT

command -v sipp >/dev/null || { echo "sipp is missing (apt install sip-tester)"; exit 2; }
command -v kamailio >/dev/null || { echo "kamailio is missing (apt install kamailio)"; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing (apt install sqlite3)"; exit 2; }
KAMSQL=/usr/share/kamailio/db_sqlite
[ -f "$KAMSQL/usrloc-create.sql" ] || { echo "Kamailio's SQLite module is missing (apt install kamailio-sqlite-modules)"; exit 2; }
cargo build --release -q -p rvoip
RVOIP=target/release/rvoip

echo "== users ($MEM_USERS) in $WORK"
python3 - "$WORK" "$MEM_USERS" "$USERS" <<'PY'
import hashlib, os, sys
work, n, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{work}/dbtext", exist_ok=True)
with open(f"{work}/import.txt", "w") as imp, \
     open(f"{work}/ha1", "w") as sub, \
     open(f"{work}/all.csv", "w") as allc, \
     open(f"{work}/users.csv", "w") as some:
    sub.write("id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int) \n")
    allc.write("SEQUENTIAL\n"); some.write("SEQUENTIAL\n")
    for i in range(n):
        user, pw = f"u{i:06d}", f"pw-{i}-bench"
        imp.write(f"{user}@127.0.0.1;{pw}\n")
        ha1 = hashlib.md5(f"{user}:127.0.0.1:{pw}".encode()).hexdigest()
        sub.write(f"{i+1}:{user}:0:0:{ha1}:0\n")
        line = f"{user};[authentication username={user} password={pw}]\n"
        allc.write(line)
        if i < small:
            some.write(line)
os.rename(f"{work}/ha1", f"{work}/dbtext/ha1")
with open(f"{work}/dbtext/version", "w") as v:
    v.write("table_name(string) table_version(int) \nha1:2\n")
PY

cat > "$WORK/rvoip.toml" <<TOML
[sip]
listen = ["udp:127.0.0.1:$RPORT"]
[database]
url = "$WORK/rvoip.db"
[registrar]
max_expires = 3600
[auth]
algorithms = ["MD5"]
TOML
sed -e "s|:$RPORT\"|:$MPORT\"|" "$WORK/rvoip.toml" > "$WORK/rvoip-mem.toml"
printf '[location]\nstore = "memory"\n' >> "$WORK/rvoip-mem.toml"
if [ -n "$RVOIP_STORE" ]; then printf '[location]\nstore = "%s"\n' "$RVOIP_STORE" >> "$WORK/rvoip.toml"; fi
$RVOIP user --config "$WORK/rvoip.toml" import --sip-only "$WORK/import.txt"
kamcfg() {
  sed -e "s|DBTEXT_DIR|$WORK/dbtext|" -e "s|KAMAILIO_PORT|$1|" \
    -e "s|SQLITE_FILE|$WORK/kamailio.db|" -e "s|CTL_SOCKET|$WORK/kamailio-$1.ctl|" \
    bench/kamailio/registrar-auth.cfg > "$WORK/kamailio-$1.cfg"
}
kamcfg "$KPORT"
kamcfg "$DPORT"
cat "$KAMSQL/standard-create.sql" "$KAMSQL/usrloc-create.sql" | sqlite3 "$WORK/kamailio.db"
sqlite3 "$WORK/kamailio.db" "PRAGMA journal_mode=WAL" >/dev/null

# Every process of the tree rooted at $1.
tree() {
  local pids=$1 p
  for p in $(ps -o pid= --ppid "$1"); do pids="$pids $(tree "$p")"; done
  echo "$pids"
}
# CPU ticks (user + system) of the tree rooted at $1.
ticks() {
  local t=0 p s
  for p in $(tree "$1"); do
    s=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${s% *} + ${s#* }))
  done
  echo "$t"
}
# Proportional set size in KiB of the tree rooted at $1.
pss() {
  local t=0 p k
  for p in $(tree "$1"); do
    k=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    t=$((t + ${k:-0}))
  done
  echo "$t"
}
HZ=$(getconf CLK_TCK)

# sipp against port $1: $2 = injection file, $3 = rate, $4 = count;
# prints "successful failed retransmissions achieved-rate" (SIPp's average
# call rate over the run: below the target when SIPp or the server lags).
drive() {
  local stat="$WORK/stat-$1-$3.csv"
  rm -f "$stat"
  sipp -sf sipp/register-auth.xml -inf "$2" "127.0.0.1:$1" -i 127.0.0.1 -p $(( $1 + 1 )) \
    -r "$3" -m "$4" -l 20000 -nostdin -buff_size 8388608 -timeout 120s -timeout_error \
    -trace_stat -stf "$stat" >/dev/null 2>&1 || true
  python3 - "$stat" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
h, v = rows[0].split(";"), rows[-1].split(";")
print(*(v[h.index(k)] for k in ("SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)")),
      round(float(v[h.index("CallRate(C)")])))
PY
}

kamailio -DD -E -f "$WORK/kamailio-$KPORT.cfg" -n 4 -m 2048 -M 8 2> "$WORK/kamailio.log" &
KPID=$!
kamailio -DD -E -f "$WORK/kamailio-$DPORT.cfg" -n 4 -m 2048 -M 8 -A WITH_SQLITE 2> "$WORK/kamailio-db.log" &
DPID=$!
$RVOIP registrar --config "$WORK/rvoip.toml" > "$WORK/rvoip.log" 2>&1 &
RPID=$!
$RVOIP registrar --config "$WORK/rvoip-mem.toml" > "$WORK/rvoip-mem.log" 2>&1 &
MPID=$!
sleep 5

declare -A NAME=([$KPORT]=kamailio [$DPORT]=kamailio-db [$RPORT]=rvoip [$MPORT]=rvoip-mem)
declare -A PID=([$KPORT]=$KPID [$DPORT]=$DPID [$RPORT]=$RPID [$MPORT]=$MPID)
PORTS="$KPORT $DPORT $RPORT $MPORT"
echo "== memory: $MEM_USERS new bindings at 2000/s, read ${SETTLE}s later"
for port in $PORTS; do
  before=$(pss "${PID[$port]}")
  read -r ok failed retrans _ < <(drive "$port" "$WORK/all.csv" 2000 "$MEM_USERS")
  sleep "$SETTLE"
  after=$(pss "${PID[$port]}")
  echo "${NAME[$port]}: $ok registered ($failed failed, $retrans retransmissions); PSS $before -> $after KiB; $(( (after - before) * 1024 / MEM_USERS )) bytes per binding"
done

echo "== CPU: $USERS registrations at $CPU_RATE/s, $CPU_REPS rounds"
declare -A CPU
for round in $(seq "$CPU_REPS"); do
  for port in $PORTS; do
    t0=$(ticks "${PID[$port]}")
    read -r ok failed retrans _ < <(drive "$port" "$WORK/users.csv" "$CPU_RATE" "$USERS")
    t1=$(ticks "${PID[$port]}")
    cpu=$(python3 -c "print(f'{($t1-$t0)/$HZ*10000/max($ok,1):.2f}')")
    CPU[$port]="${CPU[$port]:-} $cpu"
    echo "round $round, ${NAME[$port]}: $ok ok, $failed failed, $retrans retransmissions; $cpu CPU-seconds per 10,000 registrations"
  done
done
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
for port in $PORTS; do
  # shellcheck disable=SC2086 # the list of figures
  m=$(median ${CPU[$port]})
  # shellcheck disable=SC2086
  echo "${NAME[$port]}: median $m CPU-seconds per 10,000 registrations (${CPU[$port]# }); $(python3 -c "print(f'{$m/$(median ${CPU[$KPORT]}):.2f}')")x Kamailio's"
done
# shellcheck disable=SC2086
echo "rvoip (defaults) against kamailio-db, both persistent: $(python3 -c "print(f'{$(median ${CPU[$RPORT]})/$(median ${CPU[$DPORT]}):.2f}')")x"

echo "== highest failure-free rate (${RUN_SECONDS}s per step)"
for port in $PORTS; do
  best=0
  for rate in $RATES; do
    read -r ok failed retrans achieved < <(drive "$port" "$WORK/users.csv" "$rate" $((rate * RUN_SECONDS)))
    echo "${NAME[$port]} at $rate/s: $ok ok, $failed failed, $retrans retransmissions; achieved $achieved/s"
    if [ "$failed" = 0 ] && [ "$retrans" = 0 ]; then best="$rate (achieved $achieved)"; else break; fi
  done
  echo "${NAME[$port]}: highest failure-free rate $best registrations/s"
done
kill -INT "$RPID" "$MPID"; wait "$RPID" "$MPID" || true
tail -1 "$WORK/rvoip.log"
