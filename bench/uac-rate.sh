#!/usr/bin/env bash
# Highest rate each UAC drives, side by side: rvoip sip call and
# sipp -sn uac alternate REPS times against a fresh server of the same kind
# (SERVER=rvoip|sipp), each asked for more calls per second than it can
# place (RATE), so the rate it achieves is its limit on this machine.
# achieved = calls / wall time of the client process (start to exit);
# a run counts only if every call succeeded. Alternating matters on a
# shared VM whose speed drifts by +-25 % within minutes: both clients see
# the same phases, and the medians are compared. UDP receive-buffer
# drops (RcvbufErrors, all sockets) during each run are printed too.
set -u
BIN=${BIN:-/work/main/target/release/rvoip}
RATE=${RATE:-40000}; N=${N:-60000}; REPS=${REPS:-5}; SERVER=${SERVER:-rvoip}
# The same limit of calls in progress for both clients (--concurrency, -l).
# Far above what the server's socket buffer holds (5,000 calls with a
# message each in flight), the server drops datagrams and each drop stalls
# a call for a 500 ms retransmission, whichever client runs.
LIMIT=${LIMIT:-1000}
PORT=16084; CPORT=16085
common="-i 127.0.0.1 -nostdin -buff_size 8388608 -default_behaviors all,-abortunexp -timeout 60s -timeout_error"
now() { date +%s.%N; }
drops() { awk '/^Udp: [0-9]/ {print $6}' /proc/net/snmp; }
run() { # $1 = rvoip|sipp; prints "ok failed wall_seconds"
  if [ "$SERVER" = rvoip ]; then
    $BIN sip uas --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
  else
    sipp -sn uas -p $PORT $common >/dev/null 2>&1 &
  fi
  local spid=$!; sleep 0.5
  local t0 t1 res
  local d0 d1
  d0=$(drops)
  t0=$(now)
  if [ "$1" = rvoip ]; then
    res=$($BIN sip call sip:service@127.0.0.1:$PORT --local 127.0.0.1:$CPORT \
      --count $N --rate $RATE --concurrency $LIMIT 2>&1 |
      sed -n 's/^calls: \([0-9]*\) ok, \([0-9]*\) failed.*/\1 \2/p')
  else
    sipp -sn uac -p $CPORT 127.0.0.1:$PORT -r $RATE -m $N -l $LIMIT $common \
      -trace_stat -stf /tmp/uac-rate.csv >/dev/null 2>&1
    res=$(tail -1 /tmp/uac-rate.csv | awk -F';' '{print $16, $18}'); rm -f /tmp/uac-rate.csv
  fi
  t1=$(now)
  d1=$(drops)
  kill -INT $spid 2>/dev/null; wait $spid 2>/dev/null; sleep 0.5
  echo "$res $(echo "$t1 - $t0" | bc) $((d1 - d0))"
}
declare -A rates
for rep in $(seq 1 $REPS); do
  for c in rvoip sipp; do
    set -- $(run $c); ok=${1:-0}; bad=${2:-?}; wall=${3:-0}; dropped=${4:-?}
    achieved=$(echo "scale=0; $N / $wall" | bc)
    echo "rep=$rep client=$c server=$SERVER requested=$RATE/s calls=$N ok=$ok failed=$bad wall_s=$wall achieved=$achieved/s udp_drops=$dropped"
    if [ "$ok" = "$N" ] && [ "$bad" = 0 ]; then rates[$c]="${rates[$c]:-} $achieved"; fi
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }
r=$(echo "${rates[rvoip]:-}" | median); s=$(echo "${rates[sipp]:-}" | median)
echo "== server=$SERVER median achieved, failure-free runs only: rvoip sip call $r/s (${rates[rvoip]:-none}), sipp -sn uac $s/s (${rates[sipp]:-none}), ratio $(echo "scale=2; $r / ($s + 0.0001)" | bc)"
