#!/usr/bin/env bash
# CPU of the UAS process per call at a fixed rate: rvoip sip uas vs sipp -sn uas.
set -u
RATE=${RATE:-1000}; N=${N:-10000}; T=${T:-udp}
tflag=""; [ "$T" = tcp ] && tflag="-t t1"
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() { # $1 = name, $2... = uas command
  name=$1; shift
  "$@" >/dev/null 2>&1 & pid=$!
  sleep 0.5
  before=$(cpu $pid)
  sipp -sn uac $tflag -i 127.0.0.1 -p 16061 127.0.0.1:16060 -r $RATE -m $N -l 5000 -nostdin -timeout 60s -timeout_error \
       -buff_size 4194304 -default_behaviors all,-abortunexp -trace_stat -stf /tmp/bench-$name.csv >/dev/null 2>&1
  rc=$?
  after=$(cpu $pid); kill $pid 2>/dev/null; wait $pid 2>/dev/null
  ok=$(tail -1 /tmp/bench-$name.csv | awk -F';' '{print $16}'); bad=$(tail -1 /tmp/bench-$name.csv | awk -F';' '{print $18}')
  ticks=$((after-before))
  echo "$name $T rate=$RATE calls=$N sipp_rc=$rc ok=$ok failed=$bad uas_cpu_s=$(echo "scale=2; $ticks/100" | bc) us_per_call=$(echo "scale=1; $ticks*10000/$N" | bc)"
}
run rvoip /work/main/target/release/rvoip sip uas --listen 127.0.0.1:16060 --transport $T
run sipp sipp -sn uas $tflag -i 127.0.0.1 -p 16060 -nostdin -buff_size 4194304 -default_behaviors all,-abortunexp
