// SPDX-License-Identifier: GPL-2.0
/* ECS, OCSF and CEF renderings of native records: mapping and escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"

/* A native alert whose strings hold every character CEF must escape. */
static const char *alert_line =
	"{\"schema_version\":1,\"time\":\"2026-11-22T21:04:05.123456Z\",\"host\":\"gpu|7\","
	"\"kind\":\"alert\",\"id\":\"3b9e6d0a-1c2f-4a8b-b7e5-6f4d2c9a1e08\",\"seq\":2,"
	"\"boot_id\":\"39707a4c-199d-45a8-8c24-280903e5cef2\",\"machine_id\":"
	"\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"run_id\":\"c0a8016e-5f7b-4d2a-8e3c-91b4f6a2d7e0\","
	"\"labels\":{\"site\":\"fra-1\"},\"rule\":\"weights-egress-budget\",\"severity\":\"critical\","
	"\"action\":\"killed\",\"killed_by\":\"kernel\",\"mode\":\"enforce\",\"event\":\"budget\","
	"\"message\":\"a|b=c\\\\d\\ne\",\"tags\":[\"T1030\",\"T1041\",\"exfiltration\"],"
	"\"process\":{\"pid\":4242,\"ppid\":4100,\"comm\":\"python3\",\"exe\":\"/usr/bin/python3\","
	"\"cmdline\":\"python3 up.py x=1\",\"uid\":1000,\"cgroup\":\"/u\",\"pname\":\"bash\"},"
	"\"taint\":{\"sources\":[{\"path\":\"/m/w|x=y.safetensors\",\"set\":\"m\",\"bytes_read\":9}],"
	"\"chain\":[{\"pid\":4100,\"comm\":\"cat\",\"via\":\"read\"},{\"pid\":4242,\"comm\":\"python3\","
	"\"via\":\"pipe\"}],\"sets\":[\"m\"],\"via\":\"pipe\",\"depth\":1},\"network\":{\"family\":"
	"\"ipv6\",\"protocol\":\"tcp\",\"daddr\":\"2001:db8::9\",\"dport\":443,\"bytes\":1048000,"
	"\"blocked_bytes\":65536,\"allowed\":false}}";

static void cef_escaping(void **state)
{
	char *s = format__render(FORMAT_CEF, alert_line, strlen(alert_line), NULL);

	assert_non_null(s);
	/* header: | and \ escaped, the line break gone */
	assert_non_null(strstr(s, "CEF:0|vigil|vigil|" VIGIL_VERSION "|weights-egress-budget|"
				  "a\\|b=c\\\\d e|10|"));
	/* extension: = and \ escaped, the line break as \n, | as is */
	assert_non_null(strstr(s, " msg=a|b\\=c\\\\d\\ne "));
	assert_non_null(strstr(s, " filePath=/m/w|x\\=y.safetensors "));
	assert_non_null(strstr(s, " dvchost=gpu|7 "));
	assert_non_null(strstr(s, " cs3=python3 up.py x\\=1 "));
	assert_non_null(strstr(s, " dst=2001:db8::9 dpt=443 proto=TCP out=1048000 "));
	assert_non_null(strstr(s, " cs2Label=mitreTechnique cs2=T1030,T1041 "));
	assert_non_null(strstr(s, "|10|rt=1795381445123 "));
	assert_null(strchr(s, '\n'));
	free(s);
}

static void ecs_mapping(void **state)
{
	char *s = format__render(FORMAT_ECS, alert_line, strlen(alert_line), "ab");
	json_t *o = json_loads(s, 0, NULL);

	assert_non_null(o);
	assert_string_equal(format__str(o, "event.kind"), "alert");
	assert_int_equal(format__int(o, "event.severity"), 99);
	assert_string_equal(format__str(o, "event.id"), "3b9e6d0a-1c2f-4a8b-b7e5-6f4d2c9a1e08");
	assert_string_equal(format__str(o, "@timestamp"), "2026-11-22T21:04:05.123456Z");
	assert_int_equal(format__int(o, "process.pid"), 4242);
	assert_int_equal(format__int(o, "process.parent.pid"), 4100);
	assert_string_equal(format__str(o, "process.parent.name"), "bash");
	assert_string_equal(format__str(o, "file.name"), "w|x=y.safetensors");
	assert_string_equal(format__str(o, "file.directory"), "/m");
	assert_string_equal(format__str(o, "destination.ip"), "2001:db8::9");
	assert_string_equal(format__str(o, "network.type"), "ipv6");
	assert_string_equal(format__str(o, "rule.id"), "weights-egress-budget");
	assert_string_equal(json_string_value(json_array_get(format__get(o, "threat.technique.id"), 1)),
			    "T1041");
	assert_string_equal(json_string_value(json_array_get(format__get(o, "threat.tactic.name"), 0)),
			    "Exfiltration");
	assert_string_equal(format__str(o, "host.id"), "3d1219c7c4c5404aaa1f6d2a48adfda4");
	assert_string_equal(format__str(o, "labels.site"), "fra-1");
	assert_int_equal(format__int(o, "vigil.blocked_bytes"), 65536);
	assert_string_equal(format__str(o, "vigil.prev_hash"), "ab");
	json_decref(o);
	free(s);
}

static void ocsf_mapping(void **state)
{
	char *s = format__render(FORMAT_OCSF, alert_line, strlen(alert_line), "cd");
	json_t *o = json_loads(s, 0, NULL), *lin;

	assert_non_null(o);
	assert_int_equal(format__int(o, "class_uid"), 2004);
	assert_int_equal(format__int(o, "type_uid"), 200401);
	assert_int_equal(format__int(o, "severity_id"), 5);
	assert_int_equal(format__int(o, "action_id"), 2);
	assert_int_equal(format__int(o, "time"), 1795381445123LL);
	assert_string_equal(format__str(o, "metadata.version"), "1.8.0");
	assert_string_equal(format__str(o, "unmapped.prev_hash"), "cd");
	assert_string_equal(format__str(o, "finding_info.uid"), "3b9e6d0a-1c2f-4a8b-b7e5-6f4d2c9a1e08");
	assert_string_equal(format__str(o, "finding_info.analytic.uid"), "weights-egress-budget");
	assert_int_equal(format__int(o, "actor.process.pid"), 4242);
	lin = format__get(o, "actor.process.lineage");
	assert_int_equal(json_array_size(lin), 2);
	assert_string_equal(json_string_value(json_array_get(lin, 0)), "cat[4100] (read)");
	assert_string_equal(format__str(json_array_get(format__get(o, "evidences"), 0), "file.path"),
			    "/m/w|x=y.safetensors");
	assert_int_equal(format__int(json_array_get(format__get(o, "evidences"), 1), "dst_endpoint.port"),
			 443);
	json_decref(o);
	free(s);

	/* the agent's own records are Application Lifecycle events */
	{
		const char *start = "{\"kind\":\"agent_start\",\"time\":\"2026-11-22T21:04:05.000000Z\"}";

		s = format__render(FORMAT_OCSF, start, strlen(start), NULL);
	}
	o = json_loads(s, 0, NULL);
	assert_int_equal(format__int(o, "class_uid"), 6002);
	assert_int_equal(format__int(o, "activity_id"), 3);
	assert_int_equal(format__int(o, "type_uid"), 600203);
	json_decref(o);
	free(s);
	assert_null(format__render(FORMAT_OCSF, "not json", 8, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cef_escaping),
		cmocka_unit_test(ecs_mapping),
		cmocka_unit_test(ocsf_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
