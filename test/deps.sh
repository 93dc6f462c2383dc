#!/bin/bash
# Installs what building and testing l2tpd needs on Debian; a no-op when
# everything is present.
set -eu
need=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
have make || need+=(make)
have gcc || need+=(gcc)
have clang || need+=(clang)
have musl-gcc || need+=(musl-tools)
pkg_installed libclang-rt-dev || pkg_installed libclang-rt-14-dev || need+=(libclang-rt-dev)
have qemu-system-x86_64 || need+=(qemu-system-x86)
pkg_installed busybox-static || need+=(busybox-static)
have cpio || need+=(cpio)
have depmod || need+=(kmod)
have ip || need+=(iproute2)
have ping || need+=(iputils-ping)
have dnsmasq || need+=(dnsmasq-base)
have ss || need+=(iproute2)
have strace || need+=(strace)
have ps || need+=(procps)
# make test-cross: cross compilers with their C libraries, and qemu-user
for cross in mips-linux-gnu:mips mipsel-linux-gnu:mipsel \
	arm-linux-gnueabihf:armhf aarch64-linux-gnu:arm64; do
	triplet=${cross%%:*}
	have "$triplet-gcc" || need+=("gcc-$triplet")
	pkg_installed "libc6-dev-${cross##*:}-cross" || need+=("libc6-dev-${cross##*:}-cross")
done
for q in mips mipsel arm aarch64; do
	have "qemu-$q-static" || { need+=(qemu-user-static); break; }
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
