#!/bin/sh
# Runs as root inside fresh PID, network, mount, IPC and UTS namespaces (started by `unshare`):
# builds a minimal root from read-only bind mounts and a size-limited tmpfs for the work, then
#   MODE=drop:   copies SOURCE (a submission) into /work, chroots and drops to UID before Python starts;
#   MODE=zygote: binds SOURCE (the judge's inbox, readable by root only) at /inbox and chroots as root
#                to run the fork server (zygote.py), which drops each child to UID itself.
#   enter.sh NEWROOT VENV SANDBOX_DIR SOURCE UID WORK_MB MODE -- ARGS...
set -eu
root=$1 venv=$2 sandbox=$3 source=$4 uid=$5 work_mb=$6 mode=$7
shift 8
mount --make-rprivate /
mount -t tmpfs -o size=4m,mode=755 grader-root "$root"
for d in /usr /lib /lib64 /bin /etc; do
    [ -e "$d" ] || continue
    mkdir -p "$root$d"
    mount --rbind "$d" "$root$d"
    mount -o remount,bind,ro "$root$d"
done
mkdir -p "$root/venv" "$root/sandbox" "$root/work" "$root/tmp" "$root/proc" "$root/dev" "$root/inbox"
mount --bind "$venv" "$root/venv" && mount -o remount,bind,ro "$root/venv"
mount --bind "$sandbox" "$root/sandbox" && mount -o remount,bind,ro "$root/sandbox"
mount -t tmpfs -o "size=${work_mb}m,mode=700,uid=$uid,gid=$uid" grader-work "$root/work"
mount -t tmpfs -o "size=${work_mb}m,mode=1777" grader-tmp "$root/tmp"
mount -t proc -o hidepid=2 proc "$root/proc"  # the worker sees only its own processes
for dev in null zero random urandom; do
    touch "$root/dev/$dev"
    mount --bind "/dev/$dev" "$root/dev/$dev"
done
if [ "$mode" = zygote ]; then
    mount --bind "$source" "$root/inbox" && mount -o remount,bind,ro "$root/inbox"
    mount -o remount,ro,bind "$root" 2>/dev/null || true
    cd "$root/work"
    exec chroot "$root" "$@"  # the fork server becomes PID 1: it reaps orphans, and its death ends the namespace
fi
cp -r "$source"/. "$root/work/"
chown -R "$uid:$uid" "$root/work"
mount -o remount,ro,bind "$root" 2>/dev/null || true
cd "$root/work"
# Not exec: this shell stays PID 1 of the namespace, so the worker is an ordinary process that can die
# of any signal (the kernel protects PID 1 from its own namespace's signals, SIGKILL included). The
# worker's death by signal n comes back as exit status 128 + n.
set +e
chroot "$root" /usr/bin/setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs \
    --inh-caps=-all --bounding-set=-all /bin/sh -c 'cd /work && exec "$@"' sh "$@"
exit $?
