#!/bin/sh
# SpamAssassin with Bayes on the same held-out mail as the built-in engine's
# time-ordered split (docs/classifier.md, "Evaluation"): Bayes is trained
# with sa-learn on the split's oldest 70 % of each class only, then a
# private spamd on loopback (no network tests, its own config and Bayes
# database under $WORK) scores the newest 30 % through `tollgate classify
# eval --spamd`. Read the row "SpamAssassin (stock local rules), whole
# corpus" of that run: its corpus *is* the test part.
#
#   classify/measure/spamassassin-bayes.sh /path/to/spamassassin-train.jsonl.gz
#
# Needs Debian's spamassassin (4.0.1 in bookworm) and a built tollgate on
# $PATH or in $TOLLGATE. Starts nothing that outlives it.
set -eu
corpus=${1:?usage: $0 CORPUS}
tollgate=${TOLLGATE:-tollgate}
port=${SPAMD_PORT:-7831}
work=$(mktemp -d /tmp/tollgate-sa-bayes.XXXXXX)
chmod 755 "$work"
spamd_pid=
cleanup() {
	[ -n "$spamd_pid" ] && kill "$spamd_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$tollgate" classify eval --write-split "$work/split" "$corpus"

# A site config of our own: the stock one (plugins, local.cf) plus Bayes
# in $work, learned by hand only.
mkdir -p "$work/site" "$work/bayes"
cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$work/site/"
cat >>"$work/site/local.cf" <<CF
use_bayes 1
bayes_auto_learn 0
bayes_path $work/bayes/bayes
bayes_file_mode 0666
CF
sa-learn -L --siteconfigpath="$work/site" --dbpath "$work/bayes" --ham "$work/split/train/ham"
sa-learn -L --siteconfigpath="$work/site" --dbpath "$work/bayes" --spam "$work/split/train/spam"
sa-learn --siteconfigpath="$work/site" --dbpath "$work/bayes" --dump magic | head -5
chmod -R a+rwX "$work/bayes"

spamd -L --listen="127.0.0.1:$port" --max-children=2 -u nobody --siteconfigpath="$work/site" --syslog=stderr 2>"$work/spamd.log" &
spamd_pid=$!
i=0
until printf 'Subject: ping\r\n\r\nping\r\n' | spamc -x -d 127.0.0.1 -p "$port" -c >/dev/null 2>&1; do
	[ $? -eq 1 ] && break # 1: spam, still an answer
	i=$((i + 1))
	[ $i -gt 120 ] && { cat "$work/spamd.log"; echo "spamd did not start" >&2; exit 1; }
	sleep 1
done
"$tollgate" classify eval --heldout=false --folds 2 --spamd "127.0.0.1:$port" --workers 2 "$work/split/test"
