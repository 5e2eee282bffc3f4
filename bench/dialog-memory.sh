#!/usr/bin/env bash
# Memory per established dialog on loopback (UDP): N calls are set up and
# held for HOLD ms; RSS is read from /proc once every call is up and its
# INVITE transaction has ended (after 64*T1 = 32 s), and compared with the
# process's RSS before the calls. Server side: rvoip sip uas vs sipp -sn uas
# (driven by sipp -sn uac); client side: rvoip sip call (the Endpoint) vs
# sipp -sn uac (driving sipp -sn uas). ONLY=rvoip|sipp runs one pair.
set -u
BIN=${BIN:-/work/main/target/release/rvoip}
N=${N:-20000}; RATE=${RATE:-5000}; HOLD=${HOLD:-45000}; AT=${AT:-38}
PORT=16080; CPORT=16081
rss() { awk '/VmRSS/ {print $2}' /proc/$1/status 2>/dev/null || echo 0; }
common="-i 127.0.0.1 -nostdin -buff_size 8388608 -default_behaviors all,-abortunexp"
measure() { # $1 = label, $2 = server (rvoip|sipp), $3 = client (rvoip|sipp)
  if [ "$2" = rvoip ]; then $BIN sip uas --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
  else sipp -sn uas -p $PORT $common >/dev/null 2>&1 & fi
  spid=$!; sleep 0.5
  if [ "$3" = rvoip ]; then
    $BIN sip call sip:service@127.0.0.1:$PORT --local 127.0.0.1:$CPORT --count $N --rate $RATE --hold $HOLD --concurrency $N >/tmp/dm-client.out 2>&1 &
  else
    sipp -sn uac -p $CPORT 127.0.0.1:$PORT -r $RATE -m $N -l $N -d $HOLD $common >/dev/null 2>&1 &
  fi
  cpid=$!; sleep 0.3
  s0=$(rss $spid); c0=$(rss $cpid)
  sleep $AT
  s1=$(rss $spid); c1=$(rss $cpid)
  wait $cpid; kill $spid 2>/dev/null; wait $spid 2>/dev/null
  echo "$1 N=$N server=$2 bytes_per_dialog=$(( (s1 - s0) * 1024 / N )) (rss ${s0}k -> ${s1}k)  client=$3 bytes_per_dialog=$(( (c1 - c0) * 1024 / N )) (rss ${c0}k -> ${c1}k)"
  [ "$3" = rvoip ] && head -1 /tmp/dm-client.out
}
case "${ONLY:-both}" in
  rvoip) measure "rvoip->rvoip" rvoip rvoip ;;
  sipp) measure "sipp->sipp" sipp sipp ;;
  *) measure "rvoip->rvoip" rvoip rvoip; measure "sipp->sipp" sipp sipp ;;
esac
