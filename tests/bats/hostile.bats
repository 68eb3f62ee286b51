#!/usr/bin/env bats
# Hostile local users: an unprivileged user created here ($U) tries to make
# vigil protect root's files, to crowd out another user's ($V) and root's
# weights, and to drown the agent in destinations. Each trick must fail
# safely and be reported (agent_error lines, counters). docs/SECURITY.md
# "Protected files and hostile users" describes what vigil promises.

load ../lib/harness

LIBC=/usr/lib/x86_64-linux-gnu/libc.so.6
FLOOD="$SCEN/dest_flood.py"

setup() {
	vigil_setup
	U="vgh$N"
	V="vgv$N"
	for u in "$U" "$V"; do
		userdel -r -f "$u" >/dev/null 2>&1 || true
		useradd -m -d "/home/$u" -s /usr/sbin/nologin "$u"
	done
	UID_U="$(id -u "$U")"
	UID_V="$(id -u "$V")"
	# a root-only file to link to: /etc/shadow, or one like it where there
	# is none (the kernel guests' /etc: a dangling link is no link to follow)
	SHADOW=/etc/shadow
	if [ ! -e "$SHADOW" ]; then
		SHADOW="$T/shadow"
		printf 'root:*:20000::::::\n' > "$SHADOW"
		chmod 600 "$SHADOW"
	fi
	# the victim's real weights, readable by everyone (hard-link bait too)
	chmod 755 "/home/$V"
	mkdir -p "/home/$V/models"
	head -c $((4 << 20)) /dev/urandom > "/home/$V/models/real.safetensors"
	chown -R "$V:$V" "/home/$V/models"
	chmod 644 "/home/$V/models/real.safetensors"
	cat > "$T/homes.yaml" <<-EOF
	protect:
	  - name: homes
	    paths:
	      - /home/$U/**/*.safetensors
	      - /home/$V/**/*.safetensors
	EOF
}

teardown() {
	vigil_teardown
	for u in "${U:-}" "${V:-}"; do
		[ -n "$u" ] && userdel -r -f "$u" >/dev/null 2>&1
		[ -n "$u" ] && rm -rf "/home/$u"
	done
	return 0
}

# as_user CMD...: run CMD as $U inside the test cgroup (the agent's scope),
# with the user's own environment (the system python, not root's).
as_user() {
	in_cg setpriv --reuid="$U" --regid="$U" --init-groups -- \
		env -i HOME="/home/$U" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
}

stat_of() { alert_get "$1" kind="${2:-agent_stop}"; }

# still_protected FILE: root leaks FILE to the test host; the alert names it.
still_protected() {
	leak --src "$1" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ] || return 1
	alert_wait rule=weights-egress taint.sources.0.path="$1" >/dev/null
}

@test "hostile: links to root files are never protected: at start, mkdir/ln/mv at runtime, on reload" {
	as_user sh -c 'mkdir -p ~/junk && ln -s "$1" ~/junk/libc.safetensors &&
		ln -s "$2" ~/junk/shadow.safetensors &&
		ln -s /usr/lib/x86_64-linux-gnu ~/libdir' sh "$LIBC" "$SHADOW"
	start_sink tcp
	start_agent --rules "$T/homes.yaml"
	# the victim's weights and the harness's, nothing else
	[ "$(alert_get protected_files kind=agent_start)" -eq 2 ]
	run alert_wait --timeout 5 kind=agent_error message~"/home/$U/junk/" \
		message~"a symlink of uid $UID_U ($U)" message~"vigil never follows links"
	[ "$status" -eq 0 ]
	# the race: a tree built aside and renamed into place, 50 times
	for i in $(seq 50); do
		as_user sh -c 'mkdir ~/d$2.tmp && ln -s "$1" ~/d$2.tmp/l.safetensors &&
			mv ~/d$2.tmp ~/d$2' sh "$LIBC" "$i"
	done
	sleep 0.5
	# a reload walks it all again (and says what it left out)
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_reload
	[ "$status" -eq 0 ]
	run alert_wait --timeout 5 kind=agent_error message~"a symlink of uid $UID_U" message~"more"
	[ "$status" -eq 0 ]
	# behaviour: a process that reads libc and sends it is nobody's leak...
	leak --src "$LIBC" --host "$PEER4" --port "$PORT"
	[ "$status" -eq 0 ]
	# ...while the victim's weights are still protected
	still_protected "/home/$V/models/real.safetensors"
	stop_agent
	run alert_none rule=weights-egress process.cmdline~libc.so.6
	[ "$status" -eq 0 ]
	[ "$(stat_of agent.protected_files)" -eq 2 ]
	[ "$(stat_of agent.links_not_followed)" -ge 52 ]
}

@test "hostile: a reload that starts protecting a home does not follow its links" {
	# the running rules cover only the victim's home; the user's links wait
	cat > "$T/later.yaml" <<-EOF
	protect:
	  - name: homes
	    paths: [/home/$V/**/*.safetensors]
	EOF
	as_user sh -c 'ln -s "$1" ~/libc.safetensors && mkdir ~/m && ln -s "$2" ~/m/s.safetensors' \
		sh "$LIBC" "$SHADOW"
	start_agent --rules "$T/later.yaml"
	[ "$(alert_get protected_files kind=agent_start)" -eq 2 ]
	cp "$T/homes.yaml" "$T/later.yaml"
	kill -HUP "$AGENT_PID"
	run alert_wait --timeout 10 kind=agent_reload
	[ "$status" -eq 0 ]
	[ "$(alert_get protected_files kind=agent_reload)" -eq 2 ]
	run alert_wait --timeout 5 kind=agent_error message~"/home/$U/" \
		message~"a symlink of uid $UID_U ($U)" message~"and 1 more"
	[ "$status" -eq 0 ]
	stop_agent
	[ "$(stat_of agent.links_not_followed)" -eq 2 ]
}

@test "hostile: a user directory swapped for a link to a root tree is not walked" {
	# the set names a directory inside the user's home; the user makes it
	# a link to a root directory full of *.safetensors
	mkdir -p "$T/rootstuff"
	head -c 8192 /dev/urandom > "$T/rootstuff/root-owned.safetensors"
	chmod 755 "$T" "$T/rootstuff"
	as_user ln -s "$T/rootstuff" "/home/$U/models"
	cat > "$T/dir.yaml" <<-EOF
	protect:
	  - name: user-models
	    paths: [/home/$U/models/**]
	EOF
	start_agent --rules "$T/dir.yaml"
	[ "$(alert_get protected_files kind=agent_start)" -eq 1 ]   # only $W's
	run alert_wait --timeout 5 kind=agent_error message~"not walked: /home/$U/models" \
		message~"uid $UID_U"
	[ "$status" -eq 0 ]
	# and at runtime: a real directory, then swapped for the link
	as_user sh -c 'rm ~/models && mkdir ~/models && rmdir ~/models && ln -s "$1" ~/models' \
		sh "$T/rootstuff"
	sleep 0.5
	stop_agent
	[ "$(stat_of agent.protected_files)" -eq 1 ]
}

@test "hostile: a flood of empty and tiny files cannot unprotect other users' or root's weights" {
	# 65,540 empty files used to fill the 65,536-entry table; 5,000 one-byte
	# files exceed the per-owner limit (4096 by default)
	as_user python3 -c '
import os, sys
h = sys.argv[1]
os.makedirs(h + "/flood/empty"); os.makedirs(h + "/flood/tiny")
for i in range(65540):
    open("%s/flood/empty/%05d.safetensors" % (h, i), "w").close()
for i in range(5000):
    with open("%s/flood/tiny/%05d.safetensors" % (h, i), "w") as f:
        f.write("x")
' "/home/$U"
	[ "$(find "/home/$U/flood" -type f | wc -l)" -eq 70540 ]
	start_sink tcp
	start_agent --rules "$T/homes.yaml"
	# 4096 of the user's + the victim's + root's
	[ "$(alert_get protected_files kind=agent_start)" -eq $((4096 + 2)) ]
	run alert_wait --timeout 5 kind=agent_error message~"uid $UID_U ($U) already owns 4096" \
		message~"and 903 more" message~"limits: files_per_owner"
	[ "$status" -eq 0 ]
	still_protected "/home/$V/models/real.safetensors"
	still_protected "$W/model.safetensors"
	# deleting its files frees the user's entries (and the kernel's)
	as_user rm -rf "/home/$U/flood/tiny"
	sleep 1
	# a new weight file of the victim's, created now, is protected
	head -c $((1 << 20)) /dev/urandom > "/home/$V/models/new.safetensors"
	chown "$V:$V" "/home/$V/models/new.safetensors"
	sleep 0.5
	still_protected "/home/$V/models/new.safetensors"
	stop_agent
	[ "$(stat_of agent.protected_files)" -eq 3 ]
	[ "$(stat_of agent.protected_files_removed)" -ge 4096 ]
	[ "$(stat_of agent.protected_files_small)" -ge 65540 ]
	[ "$(stat_of agent.protected_files_skipped)" -ge 904 ]
}

@test "hostile: files another user put into a home are not that home's weights" {
	# root (or anything running as the victim) leaves a file of the
	# victim's in the hostile user's home: not protected there, and said so
	cp "/home/$V/models/real.safetensors" "/home/$U/planted.safetensors"
	chown "$V:$V" "/home/$U/planted.safetensors"
	# the user cannot hard-link the victim's weights into its home
	# (fs.protected_hardlinks=1, which vigil relies on and checks)
	run as_user ln "/home/$V/models/real.safetensors" "/home/$U/stolen.safetensors"
	[ "$status" -ne 0 ]
	start_agent --rules "$T/homes.yaml"
	[ "$(alert_get protected_files kind=agent_start)" -eq 2 ]
	run alert_wait --timeout 5 kind=agent_error message~"/home/$U/planted.safetensors" \
		message~"owned by uid $UID_V ($V), not by root or the owner of its home"
	[ "$status" -eq 0 ]
	stop_agent
}

@test "hostile: 100k distinct destinations from one tainted process: no ring-buffer loss" {
	as_user sh -c 'head -c 1048576 /dev/urandom > ~/w.safetensors'
	start_agent --rules "$T/homes.yaml"
	run as_user python3 "$FLOOD" --src "/home/$U/w.safetensors" --host4 "$PEER4" \
		--host6 "$PEER6" --count 100000
	[ "$status" -eq 0 ]
	echo "$output"
	secs="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$output")"
	sleep 1
	stop_agent
	lost="$(stat_of kernel.events_lost)"
	sent="$(stat_of kernel.events_sent)"
	records="$(stat_of agent.records)"
	capped="$(stat_of kernel.connect_reports_capped)"
	cpu=$(( $(stat_of agent.cpu_user_us) + $(stat_of agent.cpu_sys_us) ))
	figure "100k destinations: flood seconds" "$secs"
	figure "100k destinations: kernel records sent / lost" "$sent / $lost"
	figure "100k destinations: agent records handled" "$records"
	figure "100k destinations: CONNECT reports capped in the kernel" "$capped"
	figure "100k destinations: agent CPU (user+sys, whole run) us" "$cpu"
	figure "100k destinations: activities dropped at the per-process cap" \
		"$(stat_of agent.dest_limit_hits)"
	[ "$lost" -eq 0 ]
	[ "$records" -eq "$sent" ]
	# 4096 destinations reported, the rest capped in the kernel
	[ "$capped" -ge $((100000 - 4096 - 100)) ]
	[ "$(stat_of agent.dest_limit_hits)" -gt 0 ]
	# activities (and so alerts) stay bounded: the per-process cap
	[ "$(stat_of agent.activities)" -le 4200 ]
	run alert_wait rule=weights-connect process.pid'>='1 network.dport=1
	[ "$status" -eq 0 ]
}

@test "hostile: --deny-new-destinations refuses every send to a destination even once its report is deduped" {
	as_user sh -c 'head -c 1048576 /dev/urandom > ~/w.safetensors'
	start_agent --rules "$T/homes.yaml" --mode enforce --deny-new-destinations
	run as_user python3 "$FLOOD" --src "/home/$U/w.safetensors" --host4 "$PEER4" \
		--host6 "$PEER6" --count 2000 --same
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 0, "refused": 2000'* ]]
	stop_agent
	[ "$(stat_of kernel.connects_denied)" -ge 2000 ]
	[ "$(stat_of kernel.connects_deduped)" -ge 1999 ]
	n=$("$ALERTS_PY" wait "$ALERTS" --count 1 rule=weights-connect | wc -l)
	[ "$n" -eq 1 ]
}
