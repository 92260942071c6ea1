#!/usr/bin/env bash
# Installs the Debian packages named as arguments when they are missing:
# with apt-get as root, otherwise it names them and fails.
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "installing Debian packages: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
	# Under systemd, Debian starts a kamailio service with its stock config
	# on port 5060, the gateway's; the tests run Kamailio themselves.
	if [[ " ${missing[*]} " == *" kamailio "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now kamailio.service
		echo "disabled the kamailio service Debian started on port 5060 (see configs/kamailio/README.md)"
	fi
else
	echo "missing Debian packages: ${missing[*]}" >&2
	echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
