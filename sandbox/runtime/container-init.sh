# Container init: runs as PID 1 of a fresh pid namespace inside private mount and UTS
# namespaces (started by `unshare`), builds the container's root, then execs the command.
# Usage: sh container-init.sh ROOT HOSTNAME WORKDIR OP A B [OP A B ...] -- COMMAND...
# OPs: ro SRC DST (read-only bind), rw SRC DST (writable bind), ln TARGET LINK (symlink),
# dir - DST (empty directory). DSTs are paths inside the container.
# fd 3 tells the runtime our host PID (before anything can fail) and "ready" before exec.
set -e
root=$1 host=$2 workdir=$3
shift 3
# /proc is still the host's here, so /proc/self names us by our host PID.
read -r hostpid _ < /proc/self/stat
echo "pid $hostpid" >&3
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
/usr/bin/mount -o remount,ro "$root"
echo "$host" > /proc/sys/kernel/hostname
cd "$root"
/usr/sbin/pivot_root . .
/usr/bin/umount -l .
cd "$workdir"
echo ready >&3
exec 3>&-
exec "$@"
