#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs contrib/openwrt/l2tpd.init without OpenWrt: stand-ins for the UCI
# and procd shell functions it calls write everything it asks procd for
# (instances, parameters, triggers) and every log line to a transcript,
# which is compared with the exact expected one for each configuration.
# Each case runs under every POSIX shell found (busybox sh is the closest
# to OpenWrt's ash), plus bash.  Needs neither root nor OpenWrt.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
INIT=${INIT:-$HERE/../../contrib/openwrt/l2tpd.init}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PASS=0
FAIL=0
SKIP=0

ok() { echo "ok   $1"; PASS=$((PASS + 1)); }
fail() { echo "FAIL $1"; FAIL=$((FAIL + 1)); }

# The stand-ins, in POSIX sh so that they run in every shell under test.
mkdir -p "$T/root/lib/functions"
cat >"$T/stubs.sh" <<'STUBS'
# UCI: a small parser for the file format (config/option/list lines with
# shell-like quoting), storing values as U_<section>_<option>.
config_load() {
	U_SECTIONS=""
	_u_sec=""
	_u_anon=0
	[ -f "$UCI_DIR/$1" ] || return 0
	while IFS= read -r _u_line || [ -n "$_u_line" ]; do
		eval "set -- $_u_line"
		case "${1:-}" in
		config)
			if [ -n "${3:-}" ]; then
				_u_sec=$3
			else
				_u_anon=$((_u_anon + 1))
				_u_sec=$(printf 'cfg%06x' "$_u_anon")
			fi
			U_SECTIONS="$U_SECTIONS $_u_sec"
			eval "U_${_u_sec}_TYPE=\$2"
			;;
		option)
			eval "U_${_u_sec}_$2=\$3"
			;;
		list)
			eval "_u_old=\${U_${_u_sec}_$2:-}"
			eval "_u_len=\${U_${_u_sec}_$2_LENGTH:-0}"
			_u_len=$((_u_len + 1))
			eval "U_${_u_sec}_$2_LENGTH=\$_u_len"
			eval "U_${_u_sec}_$2_ITEM$_u_len=\$3"
			eval "U_${_u_sec}_$2=\"\${_u_old:+\$_u_old }\$3\""
			;;
		esac
	done <"$UCI_DIR/$1"
}

# As OpenWrt's: an empty or missing value yields the default.
config_get() {
	if [ $# -le 2 ]; then
		eval "printf '%s\n' \"\${U_${1}_${2}:-}\""
	else
		eval "$1=\${U_${2}_${3}:-\${4:-}}"
	fi
}

config_get_bool() {
	_u_b=""
	config_get _u_b "$2" "$3" "${4:-}"
	case "$_u_b" in
	1 | on | true | yes | enabled) _u_b=1 ;;
	0 | off | false | no | disabled) _u_b=0 ;;
	*) _u_b=${4:-} ;;
	esac
	eval "$1=\$_u_b"
}

config_foreach() {
	_u_fn=$1
	_u_type=${2:-}
	[ $# -ge 2 ] && shift 2 || shift
	for _u_s in $U_SECTIONS; do
		eval "_u_t=\$U_${_u_s}_TYPE"
		[ -z "$_u_type" ] || [ "$_u_t" = "$_u_type" ] || continue
		"$_u_fn" "$_u_s" "$@"
	done
}

config_list_foreach() {
	_u_s=$1
	_u_o=$2
	_u_fn=$3
	shift 3
	eval "_u_n=\${U_${_u_s}_${_u_o}_LENGTH:-0}"
	_u_i=1
	while [ "$_u_i" -le "$_u_n" ]; do
		eval "_u_v=\$U_${_u_s}_${_u_o}_ITEM$_u_i"
		"$_u_fn" "$_u_v" "$@"
		_u_i=$((_u_i + 1))
	done
}

# procd: one block per instance, the command line with each argument
# quoted when it is not a plain word.
_q() {
	case "$1" in
	"" | *[!A-Za-z0-9_./:=@%+,-]*)
		printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
		;;
	*) printf '%s' "$1" ;;
	esac
}

_p_words() {
	_p_w=""
	for _p_a in "$@"; do
		_p_w="$_p_w $(_q "$_p_a")"
	done
}

procd_open_instance() {
	[ -z "${_p_open:-}" ] || echo "ERROR instance opened inside an instance" >>"$OUT"
	_p_open=1
	_p_name=${1:-}
	_p_cmd=""
	_p_params=""
}

procd_set_param() {
	[ -n "${_p_open:-}" ] || echo "ERROR procd_set_param $1 outside an instance" >>"$OUT"
	_p_key=$1
	shift
	_p_words "$@"
	if [ "$_p_key" = command ]; then
		_p_cmd=$_p_w
	else
		_p_params="$_p_params
$_p_key$_p_w"
	fi
}

procd_append_param() {
	[ -n "${_p_open:-}" ] || echo "ERROR procd_append_param $1 outside an instance" >>"$OUT"
	_p_key=$1
	shift
	_p_words "$@"
	if [ "$_p_key" = command ]; then
		_p_cmd="$_p_cmd$_p_w"
	else
		_p_params="$_p_params
+$_p_key$_p_w"
	fi
}

procd_close_instance() {
	[ -n "${_p_open:-}" ] || echo "ERROR instance closed twice" >>"$OUT"
	printf 'instance %s\ncommand%s%s\n' "$_p_name" "$_p_cmd" "$_p_params" >>"$OUT"
	_p_open=""
}

procd_add_reload_trigger() {
	echo "reload-trigger $*" >>"$OUT"
}

procd_add_interface_trigger() {
	echo "interface-trigger $*" >>"$OUT"
}

logger() {
	echo "logger $*" >>"$OUT"
}
STUBS

# network.sh: the networks that are up, from $NETWORKS ("name device").
cat >"$T/root/lib/functions/network.sh" <<'NET'
network_get_device() {
	_n_dev=""
	[ -f "$NETWORKS" ] && while read -r _n_name _n_d; do
		[ "$_n_name" = "$2" ] && { _n_dev=$_n_d; break; }
	done <"$NETWORKS"
	if [ -n "$_n_dev" ]; then
		eval "$1=\$_n_dev"
		return 0
	fi
	unset "$1"
	return 1
}
NET

SHELLS=()
command -v busybox >/dev/null && busybox sh -c : 2>/dev/null && SHELLS+=("busybox sh")
command -v dash >/dev/null && SHELLS+=("dash")
SHELLS+=("bash")

# run_init SHELL: start_service, then service_triggers, as rc.common does.
run_init() {
	: >"$T/out"
	# a file that an unquoted glob in an address would expand to
	mkdir -p "$T/cwd" && : >"$T/cwd/glob:1"
	cd "$T/cwd" || exit 1
	# shellcheck disable=SC2086,SC2016 # "busybox sh" is two words
	env -i PATH="$PATH" UCI_DIR="$T/config" OUT="$T/out" NETWORKS="$T/networks" \
		IPKG_INSTROOT="$T/root" $1 -c '
		. "$1" || exit 1
		. "$2" || exit 1
		start_service
		service_triggers' run "$T/stubs.sh" "$INIT" >"$T/stdout" 2>&1
	echo "exit $?" >>"$T/out"
	cat "$T/stdout" >>"$T/out"
}

# case_check NAME: runs the init script over $T/config/tunneldigger and
# $T/networks and compares the transcript with standard input.
case_check() {
	local name=$1 sh

	cat >"$T/expected"
	echo "exit 0" >>"$T/expected"
	for sh in "${SHELLS[@]}"; do
		run_init "$sh"
		if diff -u "$T/expected" "$T/out" >"$T/diff"; then
			ok "$name ($sh)"
		else
			fail "$name ($sh)"
			sed 's/^/     /' "$T/diff"
		fi
	done
}

uci() {
	mkdir -p "$T/config"
	cat >"$T/config/tunneldigger"
}

networks() {
	cat >"$T/networks"
}

# --- the cases ---------------------------------------------------------

networks <<'EOF'
wan pppoe-wan
lan br-lan
EOF

uci <<'EOF'
config broker 'mesh_vpn'
	list address 'broker1.example.net:10000'
	list address '192.0.2.7:20000'
	option uuid 'c0:ff:ee:00:11:22'
	option interface 'mesh-vpn'
	option limit_bw_down '8000'
	option hook_script '/lib/l2tpd/hook'
	option bind_interface 'wan'
	option group 'mesh-vpn'
	option broker_selection 'usage'
	option enabled '1'
EOF
case_check "one section with every option" <<'EOF'
instance mesh_vpn
command /usr/sbin/l2tpd -f -u c0:ff:ee:00:11:22 -i mesh-vpn -t 1 -b broker1.example.net:10000 -b 192.0.2.7:20000 -L 8000 -s /lib/l2tpd/hook -I pppoe-wan -a
group mesh-vpn
respawn
stderr 1
reload-trigger tunneldigger
interface-trigger interface.* wan /etc/init.d/l2tpd reload
EOF

uci <<'EOF'
config broker 'a'
	list address 'a.example:1'
	option uuid 'uuid-a'
	option interface 'l2tp0'
	option broker_selection 'first'

config broker 'b'
	list address 'b.example:2'
	list address 'c.example:3'
	option uuid 'uuid-b'
	option interface 'l2tp1'
	option broker_selection 'random'
EOF
case_check "two sections get tunnel ids 1 and 2" <<'EOF'
instance a
command /usr/sbin/l2tpd -f -u uuid-a -i l2tp0 -t 1 -b a.example:1 -g
respawn
stderr 1
instance b
command /usr/sbin/l2tpd -f -u uuid-b -i l2tp1 -t 2 -b b.example:2 -b c.example:3 -r
respawn
stderr 1
reload-trigger tunneldigger
EOF

uci <<'EOF'
config broker 'off'
	list address 'a.example:1'
	option uuid 'uuid-off'
	option interface 'l2tp0'
	option enabled '0'

config broker 'no'
	list address 'a.example:1'
	option uuid 'uuid-no'
	option interface 'l2tp1'
	option enabled 'no'

config broker 'on'
	list address 'b.example:2'
	option uuid 'uuid-on'
	option interface 'l2tp2'
	option bind_interface 'wan'
EOF
case_check "disabled sections are left alone and use no tunnel id" <<'EOF'
instance on
command /usr/sbin/l2tpd -f -u uuid-on -i l2tp2 -t 1 -b b.example:2 -I pppoe-wan
respawn
stderr 1
reload-trigger tunneldigger
interface-trigger interface.* wan /etc/init.d/l2tpd reload
EOF

uci <<'EOF'
config broker
	list address 'a.example:1'
	option interface 'l2tp0'

config broker 'nointerface'
	list address 'a.example:1'
	option uuid 'u'

config broker 'noaddress'
	option uuid 'u'
	option interface 'l2tp1'

config broker 'good'
	list address 'a.example:1'
	option uuid 'u'
	option interface 'l2tp2'
EOF
case_check "sections missing uuid, interface or address are skipped with a warning" <<'EOF'
logger -t l2tpd -p daemon.warn broker section 'cfg000001' has no uuid; not started
logger -t l2tpd -p daemon.warn broker section 'nointerface' has no interface; not started
logger -t l2tpd -p daemon.warn broker section 'noaddress' has no address; not started
instance good
command /usr/sbin/l2tpd -f -u u -i l2tp2 -t 1 -b a.example:1
respawn
stderr 1
reload-trigger tunneldigger
EOF

uci <<'EOF'
config broker 'x'
	list address 'a.example:1'
	option uuid 'u'
	option interface 'l2tp0'
	option broker_selection 'fastest'
EOF
case_check "an unknown broker_selection warns and keeps the default" <<'EOF'
logger -t l2tpd -p daemon.warn broker section 'x': unknown broker_selection 'fastest' (usage, first or random); using first
instance x
command /usr/sbin/l2tpd -f -u u -i l2tp0 -t 1 -b a.example:1
respawn
stderr 1
reload-trigger tunneldigger
EOF

uci <<'EOF'
config broker 'up'
	list address 'a.example:1'
	option uuid 'u1'
	option interface 'l2tp0'
	option bind_interface 'lan'

config broker 'device'
	list address 'a.example:1'
	option uuid 'u2'
	option interface 'l2tp1'
	option bind_interface 'br-wan'
EOF
case_check "bind_interface: a network's device, else the name as given" <<'EOF'
instance up
command /usr/sbin/l2tpd -f -u u1 -i l2tp0 -t 1 -b a.example:1 -I br-lan
respawn
stderr 1
instance device
command /usr/sbin/l2tpd -f -u u2 -i l2tp1 -t 2 -b a.example:1 -I br-wan
respawn
stderr 1
reload-trigger tunneldigger
interface-trigger interface.* lan /etc/init.d/l2tpd reload
interface-trigger interface.* br-wan /etc/init.d/l2tpd reload
EOF

uci <<'EOF'
config broker 'limited'
	list address 'a.example:1'
	option uuid 'u1'
	option interface 'l2tp0'
	option limit_bw_down '1024'

config broker 'unlimited'
	list address 'a.example:1'
	option uuid 'u2'
	option interface 'l2tp1'
	option limit_bw_down ''
EOF
case_check "limit_bw_down present, and empty" <<'EOF'
instance limited
command /usr/sbin/l2tpd -f -u u1 -i l2tp0 -t 1 -b a.example:1 -L 1024
respawn
stderr 1
instance unlimited
command /usr/sbin/l2tpd -f -u u2 -i l2tp1 -t 2 -b a.example:1
respawn
stderr 1
reload-trigger tunneldigger
EOF

uci <<'EOF'
config broker 'first'
	option address 'a.example:1 b.example:2'
	option uuid 'node with spaces'
	option interface 'l2tp0'
	option hook_script '/etc/my hook'

config broker 'second'
	list address '*:1'
	option uuid 'u2'
	option interface 'l2tp1'

config broker 'third'
	list address 'c.example:3'
	option uuid 'u3'
	option interface 'l2tp0'
EOF
case_check "plain option address, no globbing, quoting kept, one section per interface" <<'EOF'
instance first
command /usr/sbin/l2tpd -f -u 'node with spaces' -i l2tp0 -t 1 -b a.example:1 -b b.example:2 -s '/etc/my hook'
respawn
stderr 1
instance second
command /usr/sbin/l2tpd -f -u u2 -i l2tp1 -t 2 -b '*:1'
respawn
stderr 1
logger -t l2tpd -p daemon.warn broker section 'third': interface 'l2tp0' is already used by another section; not started
reload-trigger tunneldigger
EOF

uci <<'EOF'
config other 'x'
	option uuid 'u'
EOF
case_check "no broker section starts nothing" <<'EOF'
reload-trigger tunneldigger
EOF

rm -f "$T/config/tunneldigger"
case_check "no configuration file starts nothing" <<'EOF'
reload-trigger tunneldigger
EOF

# --- the script itself ---------------------------------------------------

if [ "$(head -n 1 "$INIT")" = "#!/bin/sh /etc/rc.common" ] &&
	grep -qx 'USE_PROCD=1' "$INIT" && grep -qx 'START=90' "$INIT"; then
	ok "rc.common shebang, USE_PROCD=1, START=90"
else
	fail "rc.common shebang, USE_PROCD=1, START=90"
fi

for sh in "${SHELLS[@]}"; do
	# shellcheck disable=SC2086
	if $sh -n "$INIT"; then ok "syntax ($sh -n)"; else fail "syntax ($sh -n)"; fi
done

if command -v shellcheck >/dev/null; then
	# START and USE_PROCD are read by rc.common; network.sh is OpenWrt's.
	if shellcheck -s dash -e SC2034,SC1091 "$INIT" >"$T/sc" 2>&1; then
		ok "shellcheck"
	else
		fail "shellcheck"
		sed 's/^/     /' "$T/sc"
	fi
else
	echo "skip shellcheck (not installed)"
	SKIP=$((SKIP + 1))
fi

if [ "$SKIP" -gt 0 ]; then
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
else
	echo "$PASS passed, $FAIL failed"
fi
[ "$FAIL" -eq 0 ]
