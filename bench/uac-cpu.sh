#!/usr/bin/env bash
# CPU of the UAC process per call at a fixed rate: rvoip sip call vs
# sipp -sn uac, against the same server (SERVER=rvoip|sipp), alternating
# REPS times so that both see the same machine. CPU per call is what sets
# the highest rate a client can drive on one core, and it is far less
# noisy on a shared VM than the achieved rate itself.
set -u
BIN=${BIN:-/work/main/target/release/rvoip}
RATE=${RATE:-10000}; N=${N:-40000}; REPS=${REPS:-3}; SERVER=${SERVER:-rvoip}
PORT=16080; CPORT=16081
common="-i 127.0.0.1 -nostdin -buff_size 8388608 -default_behaviors all,-abortunexp -timeout 60s -timeout_error"
if [ "$SERVER" = rvoip ]; then
  $BIN sip uas --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
else
  sipp -sn uas -p $PORT $common >/dev/null 2>&1 &
fi
spid=$!; sleep 0.5
measure() { # $1 = rvoip|sipp; prints "ok failed cpu_seconds"
  if [ "$1" = rvoip ]; then
    out=$( { /usr/bin/time -f "cpu %U %S" $BIN sip call sip:service@127.0.0.1:$PORT --local 127.0.0.1:$CPORT \
             --count $N --rate $RATE --concurrency 5000; } 2>&1 )
    res=$(echo "$out" | sed -n 's/^calls: \([0-9]*\) ok, \([0-9]*\) failed.*/\1 \2/p')
  else
    out=$( { /usr/bin/time -f "cpu %U %S" sipp -sn uac -p $CPORT 127.0.0.1:$PORT -r $RATE -m $N -l 20000 $common \
             -trace_stat -stf /tmp/uac-cpu.csv >/dev/null; } 2>&1 )
    res=$(tail -1 /tmp/uac-cpu.csv | awk -F';' '{print $16, $18}'); rm -f /tmp/uac-cpu.csv
  fi
  cpu=$(echo "$out" | awk '/^cpu /{print $2 + $3}')
  echo "$res $cpu"
}
for rep in $(seq 1 $REPS); do
  for c in rvoip sipp; do
    set -- $(measure $c); ok=${1:-0}; bad=${2:-?}; cpu=${3:-0}
    echo "rep=$rep client=$c server=$SERVER rate=$RATE calls=$N ok=$ok failed=$bad client_cpu_s=$cpu us_per_call=$(echo "scale=1; $cpu * 1000000 / $N" | bc)"
  done
done
kill -INT $spid 2>/dev/null; wait $spid 2>/dev/null
