#!/usr/bin/env bash
# Highest failure-free call rate on loopback (UDP), client -> server, for:
#   rvoip sip call -> rvoip sip uas, sipp -sn uac -> rvoip sip uas,
#   sipp -sn uac -> sipp -sn uas, rvoip sip call -> sipp -sn uas.
# Each step places RATE*DUR calls at RATE calls/s; the achieved rate is
# calls / wall time of the client. A step passes when every call succeeds;
# the result is the highest achieved rate of a passing step.
# Also: CPU-seconds per 1,000 calls of the server process at each step.
set -u
BIN=${BIN:-/work/main/target/release/rvoip}
RATES=${RATES:-"2000 4000 6000 8000 10000 12000 14000 16000 18000 20000"}
DUR=${DUR:-3}
# The same limit of calls in progress for both clients (see uac-rate.sh:
# far higher limits overflow the server's socket buffer and turn drops
# into 500 ms retransmission stalls).
LIMIT=${LIMIT:-1000}
PORT=16070; CPORT=16071
cpu() { awk '{print $14+$15}' /proc/$1/stat 2>/dev/null || echo 0; }
now() { date +%s.%N; }
sipp_common="-i 127.0.0.1 -nostdin -buff_size 8388608 -default_behaviors all,-abortunexp -timeout 60s -timeout_error"

server() { # $1 = rvoip|sipp; sets pid (a child of this shell, so it can be waited for)
  if [ "$1" = rvoip ]; then
    $BIN sip uas --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
  else
    sipp -sn uas -p $PORT $sipp_common >/dev/null 2>&1 &
  fi
  pid=$!
}

client() { # $1 = rvoip|sipp, $2 = rate, $3 = calls; prints "ok failed"
  if [ "$1" = rvoip ]; then
    out=$($BIN sip call sip:service@127.0.0.1:$PORT --local 127.0.0.1:$CPORT --count $3 --rate $2 --concurrency $LIMIT 2>&1)
    echo "$out" | sed -n 's/^calls: \([0-9]*\) ok, \([0-9]*\) failed.*/\1 \2/p'
  else
    sipp -sn uac -p $CPORT 127.0.0.1:$PORT -r $2 -m $3 -l $LIMIT $sipp_common -trace_stat -stf /tmp/maxrate.csv >/dev/null 2>&1
    tail -1 /tmp/maxrate.csv | awk -F';' '{print $16, $18}'
    rm -f /tmp/maxrate.csv
  fi
}

for pair in "rvoip rvoip" "sipp rvoip" "sipp sipp" "rvoip sipp"; do
  set -- $pair; c=$1; s=$2; best=0; best_achieved=0
  for rate in $RATES; do
    n=$((rate * DUR))
    server $s; sleep 0.5
    c0=$(cpu $pid); t0=$(now)
    res=$(client $c $rate $n); t1=$(now)
    c1=$(cpu $pid); kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; sleep 0.5
    set -- $res; ok=${1:-0}; bad=${2:-?}
    achieved=$(echo "scale=0; $n / ($t1 - $t0)" | bc)
    cpu_per_k=$(echo "scale=3; ($c1 - $c0) / 100 * 1000 / $n" | bc)
    echo "client=$c server=$s rate=$rate calls=$n ok=$ok failed=$bad achieved=$achieved/s server_cpu_s_per_1000=$cpu_per_k"
    if [ "$ok" = "$n" ] && [ "$bad" = 0 ]; then
      best=$rate
      [ "$achieved" -gt "$best_achieved" ] && best_achieved=$achieved
    else
      break
    fi
  done
  echo "== client=$c server=$s highest failure-free rate: $best_achieved/s achieved (every step up to $best/s requested passed)"
done
