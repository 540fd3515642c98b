# Container init, started by `unshare --mount --uts --ipc --pid` (without --fork): this shell
# stays in the host's PID namespace as the container's reaper, and its child becomes PID 1 of
# the new PID namespace, builds the container's root and execs the command. The shell exits
# with the child's status (128+n when signal n killed it), which the runtime reports.
# Usage: sh container-init.sh ROOT HOSTNAME WORKDIR USER OP A B [OP A B ...] -- COMMAND...
# USER: "-" (root), or "UID:GID:GROUPS" (GROUPS comma-separated, or "-") to run the command as.
# OPs: ro SRC DST (read-only bind), rw SRC DST (writable bind), ln TARGET LINK (symlink),
# dir - DST (empty directory). DSTs are paths inside the container.
# fd 3 tells the runtime PID 1's host PID, then "ready" just before the command starts.
# fd 4 is a lifeline: it reaches end-of-file when the runtime's process is gone, however it
# ended, and then the container is killed so nothing outlives the sandbox.
if [ "$1" != "--pid1" ]; then
  /usr/bin/sh "$0" --pid1 "$@" 4<&- &
  child=$!
  echo "pid $child" >&3
  (read -r _ <&4; kill -KILL "$child") 3>&- 2>/dev/null &
  lifeline=$!
  # The shell would report "Killed" for a signalled child into the container log.
  exec 3>&- 4<&- 2>/dev/null
  wait "$child"
  code=$?
  kill -KILL "$lifeline"
  exit "$code"
fi
set -e
root=$2 host=$3 workdir=$4 user=$5
shift 5
/usr/bin/mount -t tmpfs -o mode=755,size=64m container-root "$root"
/usr/bin/mkdir -p "$root/proc" "$root/dev" "$root/tmp" "$root/var/tmp" "$root/root" "$root/run"
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  op=$1 a=$2 b=$3
  shift 3
  case $op in
    ro|rw)
      if [ -d "$a" ]; then /usr/bin/mkdir -p "$root$b"; elif [ ! -e "$root$b" ]; then /usr/bin/mkdir -p "$root${b%/*}"; : > "$root$b"; fi
      if [ "$op" = ro ]; then /usr/bin/mount -o bind,ro "$a" "$root$b"; else /usr/bin/mount --bind "$a" "$root$b"; fi ;;
    ln) /usr/bin/ln -s "$a" "$root$b" ;;
    dir) /usr/bin/mkdir -p "$root$b" ;;
  esac
done
shift
/usr/bin/mount -t proc proc "$root/proc"
/usr/bin/mount -t tmpfs -o mode=1777,size=64m shm "$root/dev/shm" 2>/dev/null || true
# A private devpts instance (a user namespace may mount one), so terminals of this container are its own.
/usr/bin/mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts" 2>/dev/null || true
# A per-mount read-only flag (bind remount) also works inside a user namespace.
/usr/bin/mount -o remount,bind,ro "$root"
# The sysctl file is not writable from a user namespace; hostname(1) is an extra exec.
{ echo "$host" > /proc/sys/kernel/hostname; } 2>/dev/null || /usr/bin/hostname "$host"
cd "$root"
/usr/sbin/pivot_root . .
/usr/bin/umount -l .
cd "$workdir"
echo ready >&3
exec 3>&-
if [ "$user" != - ]; then
  uid=${user%%:*} rest=${user#*:}
  gid=${rest%%:*} groups=${rest#*:}
  if [ "$groups" = - ]; then exec /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; fi
  exec /usr/bin/setpriv --reuid="$uid" --regid="$gid" --groups="$groups" -- "$@"
fi
exec "$@"
