#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <zmq.h>

#include "curve.h"
#include "endpoints.h"
#include "picsec_build.h"
#include "testutil.h"

Test(endpoints, ipc_paths_in_the_rundir)
{
	struct bus_endpoints ep;
	char err[256];
	char longdir[200];

	cr_assert_eq(bus_endpoints_ipc("/run/picsec", &ep, err, sizeof(err)), 0);
	cr_assert_str_eq(ep.events_in, "ipc:///run/picsec/events-in.sock");
	cr_assert_str_eq(ep.events_out, "ipc:///run/picsec/events-out.sock");
	cr_assert_str_eq(ep.requests, "ipc:///run/picsec/requests.sock");
	cr_assert_str_eq(ep.tap, "ipc:///run/picsec/tap.sock");
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	cr_assert_eq(bus_endpoints_ipc(longdir, &ep, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long for a Unix socket") != NULL, "%s", err);
}

Test(endpoints, tcp_takes_four_ports)
{
	struct bus_endpoints ep;
	char err[256];

	cr_assert_eq(bus_endpoints_tcp("tcp://192.0.2.1:7400", &ep, err, sizeof(err)), 0);
	cr_assert_str_eq(ep.events_in, "tcp://192.0.2.1:7400");
	cr_assert_str_eq(ep.events_out, "tcp://192.0.2.1:7401");
	cr_assert_str_eq(ep.requests, "tcp://192.0.2.1:7402");
	cr_assert_str_eq(ep.tap, "tcp://192.0.2.1:7403");
	cr_assert_eq(bus_endpoints_tcp("tcp://[2001:db8::1]:7400", &ep, err, sizeof(err)), 0);
	cr_assert_str_eq(ep.tap, "tcp://[2001:db8::1]:7403");
	cr_assert_eq(bus_endpoints_tcp("udp://192.0.2.1:7400", &ep, err, sizeof(err)), -1);
	cr_assert_eq(bus_endpoints_tcp("tcp://192.0.2.1", &ep, err, sizeof(err)), -1);
	cr_assert_eq(bus_endpoints_tcp("tcp://192.0.2.1:65534", &ep, err, sizeof(err)), -1);
	cr_assert_eq(bus_endpoints_tcp("tcp://192.0.2.1:x", &ep, err, sizeof(err)), -1);
}

Test(endpoints, rundir_from_flag_then_environment)
{
	setenv("PICSEC_RUNDIR", "/tmp/from-env", 1);
	cr_assert_str_eq(bus_rundir("/tmp/flag"), "/tmp/flag");
	cr_assert_str_eq(bus_rundir(NULL), "/tmp/from-env");
	unsetenv("PICSEC_RUNDIR");
	cr_assert_str_eq(bus_rundir(NULL), PICSEC_DEFAULT_RUNDIR);
}

Test(curve, generated_keys_load_and_match)
{
	struct curve_keypair kp;
	struct curve_allowlist *al;
	char dir[64], prefix[128], path[160], pub[CURVE_Z85_LEN + 1], err[256];
	unsigned char raw[CURVE_KEY_BYTES];
	struct stat st;
	FILE *f;

	test_mkdtemp(dir, sizeof(dir));
	snprintf(prefix, sizeof(prefix), "%s/client", dir);
	cr_assert_eq(curve_generate(prefix, err, sizeof(err)), 0, "%s", err);
	snprintf(path, sizeof(path), "%s.key", prefix);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(curve_load_secret(path, &kp, err, sizeof(err)), 0, "%s", err);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	cr_assert_eq(curve_load_public(path, pub, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(pub, kp.public_z85, "the public key derived from the secret one");

	snprintf(path, sizeof(path), "%s/allow", dir);
	f = fopen(path, "w");
	fprintf(f, "# gateways\n\n%s  # pic host\n", pub);
	fclose(f);
	al = curve_allowlist_load(path, err, sizeof(err));
	cr_assert_not_null(al, "%s", err);
	cr_assert_eq(curve_allowlist_count(al), 1);
	zmq_z85_decode(raw, pub);
	cr_assert(curve_allowlist_has(al, raw));
	raw[0] ^= 1;
	cr_assert_not(curve_allowlist_has(al, raw));
	curve_allowlist_free(al);
	curve_keypair_wipe(&kp);
	test_rmdir(dir);
}

Test(curve, bad_files_are_refused_with_their_line)
{
	char dir[64], path[128], err[256];
	struct curve_keypair kp;
	FILE *f;

	test_mkdtemp(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/allow", dir);
	f = fopen(path, "w");
	fprintf(f, "# ok\nnot-a-key\n");
	fclose(f);
	cr_assert_null(curve_allowlist_load(path, err, sizeof(err)));
	cr_assert(strstr(err, "allow:2: not a Z85 CURVE public key") != NULL, "%s", err);

	snprintf(path, sizeof(path), "%s/open.key", dir);
	f = fopen(path, "w");
	fprintf(f, "rq:rM>}U?@Lns47E1%%kR.o@n%%FcmmsL/@{H8]yf7\n");
	fclose(f);
	chmod(path, 0644);
	cr_assert_eq(curve_load_secret(path, &kp, err, sizeof(err)), -1);
	cr_assert(strstr(err, "readable by others") != NULL, "%s", err);
	cr_assert_eq(curve_load_secret("/nonexistent/key", &kp, err, sizeof(err)), -1);
	test_rmdir(dir);
}
