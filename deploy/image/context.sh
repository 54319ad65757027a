#!/usr/bin/env bash
# Make the build context of ../../Containerfile in DIR from BINARY (a chains
# built for x86_64-unknown-linux-gnu on this Debian): rootfs/ holds the
# files of the Debian packages libc6 and libgcc-s1 the binary links to
# (their libraries and loader, not their docs or locale data), the CA bundle
# of ca-certificates, /etc/passwd and /etc/group for the nonroot user
# (65532, as distroless), and /tmp. The binary is stripped of its debug
# information. Nothing else: no shell.
#
# usage: deploy/image/context.sh BINARY DIR
set -euo pipefail
binary=${1:?usage: context.sh BINARY DIR}
dir=${2:?usage: context.sh BINARY DIR}
rootfs="$dir/rootfs"
rm -rf "$dir"
mkdir -p "$rootfs"

# The libraries the binary needs must come from these packages.
missing=$(ldd "$binary" | awk '/=>/ {print $3}' | while read -r lib; do
  dpkg -S "$(readlink -f "$lib")" >/dev/null 2>&1 || dpkg -S "$lib" >/dev/null 2>&1 || echo "$lib"
done)
if [ -n "$missing" ]; then
  echo "context.sh: $binary links to libraries of no Debian package: $missing" >&2
  exit 1
fi

# Debian's merged /usr: /lib and /lib64 are links into /usr.
mkdir -p "$rootfs/usr/lib" "$rootfs/usr/lib64"
ln -s usr/lib "$rootfs/lib"
ln -s usr/lib64 "$rootfs/lib64"
# Files (and file symlinks) of the packages, without docs and gconv; a
# path is stored as it resolves under merged /usr.
dpkg -L libc6 libgcc-s1 \
  | grep -Ev '^/usr/share/|/gconv/' \
  | while read -r f; do
      if [ -d "$f" ]; then continue; fi
      if [ -f "$f" ] || [ -L "$f" ]; then
        real_dir=$(readlink -f "$(dirname "$f")")
        printf '%s\n' "${real_dir#/}/$(basename "$f")"
      fi
    done \
  | sort -u \
  | tar -C / --no-recursion -cf - -T - | tar -C "$rootfs" -xf -

mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$rootfs/home/nonroot" "$rootfs/usr/bin"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
chmod 1777 "$rootfs/tmp"
chown 65532:65532 "$rootfs/home/nonroot"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
  > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"

objcopy --strip-debug "$binary" "$dir/chains"
chmod 0755 "$dir/chains"
