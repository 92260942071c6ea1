#!/usr/bin/env bash
# Installs the Debian packages named as arguments when they are missing:
# with apt-get as root, otherwise it names them and fails.
#
#   scripts/debs.sh [--for WHY] PACKAGE...
#
# WHY ("speech on phone calls") says what they are for, in the message.
# apt-get waits up to two minutes for another apt or dpkg (an unattended
# upgrade, another make) to release its lock instead of failing at once.
set -euo pipefail
why=""
if [ "${1:-}" = "--for" ]; then
	why=" for $2"
	shift 2
fi
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages ${missing[*]}$why" >&2
	echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "installing Debian packages ${missing[*]}$why"
wait_s=120
apt=(apt-get -o "DPkg::Lock::Timeout=$wait_s")
# DPkg::Lock::Timeout covers dpkg's locks, not the package lists' lock that
# apt-get update takes: while another apt holds that one, try again.
for ((waited = 0; ; waited += 5)); do
	if out=$("${apt[@]}" update -qq 2>&1); then
		break
	fi
	if [ "$waited" -ge "$wait_s" ] || ! grep -q "Could not get lock" <<<"$out"; then
		echo "$out" >&2
		exit 1
	fi
	[ "$waited" -gt 0 ] || echo "waiting for another apt to release the package lists (up to ${wait_s}s)"
	sleep 5
done
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}"
# Under systemd, Debian starts a kamailio service with its stock config on
# port 5060, the gateway's; the tests run Kamailio themselves.
if [[ " ${missing[*]} " == *" kamailio "* ]] && [ -d /run/systemd/system ]; then
	systemctl disable --now kamailio.service
	echo "disabled the kamailio service Debian started on port 5060 (see configs/kamailio/README.md)"
fi
