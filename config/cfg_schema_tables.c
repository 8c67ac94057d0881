/* The statements of [edit services ipsec-vpn], [edit services service-set], the parts of
 * [edit interfaces] and [edit protocols ospf|ospf3] that service sets and OSPF IPsec use, and
 * [edit security ipsec security-association]. Names, values, ranges and defaults are those of
 * Junos (junos-features.md §1-§8, from Juniper's YANG for 24.4R1); the few picsec additions
 * are marked as such in their help. */
#include "cfg_schema.h"

#include <stddef.h>

#define END { .keyword = NULL }

#define CONTAINER(kw, kids, h) { .keyword = kw, .kind = CFG_CONTAINER, .children = kids, .help = h }
#define CONTAINER_F(kw, kids, f, h) \
	{ .keyword = kw, .kind = CFG_CONTAINER, .children = kids, .flags = f, .help = h }
#define CHOICE_CONTAINER(kw, ch, kids, h) \
	{ .keyword = kw, .kind = CFG_CONTAINER, .choice = ch, .children = kids, .help = h }
#define PRESENCE(kw, kids, h) { .keyword = kw, .kind = CFG_PRESENCE, .children = kids, .help = h }
#define LIST(kw, t, lo, hi, f, kids, h) \
	{ .keyword = kw, .kind = CFG_LIST, .type = t, .min = lo, .max = hi, .flags = f, \
	  .children = kids, .help = h }
/* A list that is one member of a choice; the commit check rejects two members side by side. */
#define CHOICE_LIST(kw, t, lo, hi, ch, f, h) \
	{ .keyword = kw, .kind = CFG_LIST, .type = t, .min = lo, .max = hi, .choice = ch, \
	  .flags = f, .help = h }
#define LIST_ENUM(kw, e, f, kids, h) \
	{ .keyword = kw, .kind = CFG_LIST, .type = CFG_T_ENUM, .enums = e, .flags = f, \
	  .children = kids, .help = h }
#define FLAG(kw, h) { .keyword = kw, .kind = CFG_FLAG, .help = h }
#define CHOICE_FLAG(kw, ch, h) \
	{ .keyword = kw, .kind = CFG_FLAG, .choice = ch, .flags = CFG_F_REPLACE, .help = h }
#define UINT(kw, lo, hi, d, h) \
	{ .keyword = kw, .kind = CFG_LEAF, .type = CFG_T_UINT, .min = lo, .max = hi, .def = d, \
	  .help = h }
#define ENUM(kw, e, d, h) \
	{ .keyword = kw, .kind = CFG_LEAF, .type = CFG_T_ENUM, .enums = e, .def = d, .help = h }
#define LEAF(kw, t, lo, hi, h) \
	{ .keyword = kw, .kind = CFG_LEAF, .type = t, .min = lo, .max = hi, .help = h }
#define LEAF_F(kw, t, lo, hi, f, kids, h) \
	{ .keyword = kw, .kind = CFG_LEAF, .type = t, .min = lo, .max = hi, .flags = f, \
	  .children = kids, .help = h }
#define CHOICE_LEAF(kw, t, lo, hi, ch, f, h) \
	{ .keyword = kw, .kind = CFG_LEAF, .type = t, .min = lo, .max = hi, .choice = ch, \
	  .flags = CFG_F_REPLACE | (f), .help = h }
#define LEAFLIST(kw, t, lo, hi, f, h) \
	{ .keyword = kw, .kind = CFG_LEAFLIST, .type = t, .min = lo, .max = hi, .flags = f, \
	  .help = h }
#define DESCRIPTION LEAF("description", CFG_T_STRING, 1, 80, "Text description")

/* Enumerations */
static const char *const e_direction[] = { "inbound", "outbound", "bidirectional", NULL };
static const char *const e_protocol[] = { "ah", "esp", "bundle", NULL };
static const char *const e_manual_auth[] = { "hmac-md5-96", "hmac-sha1-96",
	"hmac-sha-256-128", "hmac-sha2-256", NULL };
/* The GCM names are accepted here only so that the commit check can say why a manual SA
 * cannot use them. */
static const char *const e_manual_enc[] = { "des-cbc", "3des-cbc", "aes-128-cbc",
	"aes-192-cbc", "aes-256-cbc", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm", NULL };
static const char *const e_match_direction[] = { "input", "output", NULL };
static const char *const e_establish[] = { "immediately", "on-traffic", "responder-only", NULL };
static const char *const e_ike_auth_method[] = { "pre-shared-keys", "rsa-signatures",
	"dsa-signatures", "ecdsa-signatures-256", "ecdsa-signatures-384", NULL };
/* group31 (Curve25519, RFC 8031) is a picsec addition. */
static const char *const e_dh_group[] = { "group1", "group2", "group5", "group14", "group15",
	"group16", "group19", "group20", "group24", "group31", NULL };
static const char *const e_ike_auth_alg[] = { "md5", "sha1", "sha-256", "sha-384", NULL };
/* aes-128-gcm and aes-256-gcm for IKE (RFC 5282) are picsec additions. */
static const char *const e_ike_enc_alg[] = { "des-cbc", "3des-cbc", "aes-128-cbc",
	"aes-192-cbc", "aes-256-cbc", "aes-128-gcm", "aes-256-gcm", NULL };
static const char *const e_ike_mode[] = { "main", "aggressive", NULL };
static const char *const e_ike_version[] = { "1", "2", NULL };
static const char *const e_peer_cert_type[] = { "pkcs7", "x509-signature", NULL };
static const char *const e_ipsec_auth_alg[] = { "hmac-md5-96", "hmac-sha1-96",
	"hmac-sha-256-128", "hmac-sha-256-96", "hmac-sha2-256", NULL };
static const char *const e_ipsec_enc_alg[] = { "des-cbc", "3des-cbc", "aes-128-cbc",
	"aes-192-cbc", "aes-256-cbc", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm", NULL };
static const char *const e_proposal_set[] = { "basic", "compatible", "standard", NULL };
static const char *const e_trace_level[] = { "error", "warning", "notice", "info", "verbose",
	"all", NULL };
static const char *const e_trace_flag[] = { "timer", "routing-socket", "parse", "ike",
	"policy-manager", "general", "database", "certificates", "snmp", "ams", "lic", "all", NULL };
static const char *const e_sa_mode[] = { "transport", "tunnel", NULL };
static const char *const e_replay_window[] = { "32", "64", NULL };
static const char *const e_service_domain[] = { "inside", "outside", NULL };
static const char *const e_outside_type[] = { "local", NULL };
static const char *const e_family[] = { "inet", "inet6", NULL };
static const char *const e_ospf_if_type[] = { "broadcast", "nbma", "p2mp", "p2p", NULL };

/* A key: ascii-text or hexadecimal, written on one line: key ascii-text "$9$..."; */
static const struct cfg_schema s_key[] = {
	CHOICE_LEAF("ascii-text", CFG_T_SECRET, 1, 255, "key", CFG_F_SECRET, "Format as text"),
	CHOICE_LEAF("hexadecimal", CFG_T_SECRET, 1, 255, "key", CFG_F_SECRET,
	    "Format as hexadecimal"),
	END,
};

static const struct cfg_schema s_manual_auth[] = {
	ENUM("algorithm", e_manual_auth, NULL, "Authentication algorithm"),
	CONTAINER_F("key", s_key, CFG_F_INLINE, "Authentication key"),
	END,
};

static const struct cfg_schema s_manual_enc[] = {
	ENUM("algorithm", e_manual_enc, NULL, "Encryption algorithm"),
	CONTAINER_F("key", s_key, CFG_F_INLINE, "Encryption key"),
	END,
};

static const struct cfg_schema s_manual_direction[] = {
	ENUM("protocol", e_protocol, NULL, "Define an IPSec protocol for the security association"),
	UINT("spi", 256, 16639, NULL, "Security parameter index"),
	UINT("auxiliary-spi", 256, 16639, NULL,
	    "ESP security parameter index for IPSec SA bundle"),
	CONTAINER("authentication", s_manual_auth, "Define authentication parameters"),
	CONTAINER("encryption", s_manual_enc, "Define encryption parameters"),
	END,
};

static const struct cfg_schema s_manual[] = {
	LIST_ENUM("direction", e_direction, 0, s_manual_direction,
	    "Define the direction of the security association"),
	END,
};

static const struct cfg_schema s_dynamic[] = {
	LEAF("ike-policy", CFG_T_NAME, 1, 32, "Name of the IKE policy"),
	LEAF("ipsec-policy", CFG_T_NAME, 1, 32, "Name of the IPSec policy"),
	UINT("natt-install-interval", 0, 10, "0",
	    "NAT-T SA installation interval (seconds)"),
	END,
};

static const struct cfg_schema s_dpd[] = {
	UINT("interval", 1, 180, "10", "The interval at which to send DPD messages (seconds)"),
	UINT("threshold", 1, 10, "3", "Maximum number of DPD messages"),
	END,
};

static const struct cfg_schema s_from[] = {
	LEAF("source-address", CFG_T_PREFIX, 0, 0, "Match IP source address"),
	LEAF("destination-address", CFG_T_PREFIX, 0, 0, "Match IP destination address"),
	LEAF("ipsec-inside-interface", CFG_T_IFNAME, 1, 63,
	    "Match IPSec inside (tunnel) interface"),
	END,
};

static const struct cfg_schema s_then[] = {
	FLAG("syslog", "System log (syslog) information about the packet"),
	LEAF("remote-gateway", CFG_T_IPADDR, 0, 0, "Remote gateway address"),
	LEAF("backup-remote-gateway", CFG_T_IPADDR, 0, 0, "Backup remote gateway address"),
	CHOICE_CONTAINER("manual", "sa", s_manual, "Define a manual security association"),
	CHOICE_CONTAINER("dynamic", "sa", s_dynamic, "Define a dynamic security association"),
	CHOICE_FLAG("clear-dont-fragment-bit", "df", "Clear the don't fragment bit"),
	CHOICE_FLAG("copy-dont-fragment-bit", "df", "Copy the don't fragment bit"),
	CHOICE_FLAG("set-dont-fragment-bit", "df", "Set the don't fragment bit"),
	FLAG("no-anti-replay", "Disable the anti-replay check"),
	UINT("anti-replay-window-size", 64, 4096, "128", "Size of the anti-replay window"),
	UINT("tunnel-mtu", 256, 9192, NULL, "Maximum transmit packet size"),
	FLAG("copy-ttl-from-inner-ip-header", "Copy TTL from the inner IP header"),
	UINT("ttl", 1, 254, "64", "TTL value of the outer IP header"),
	FLAG("copy-tos-from-inner-ip-header", "Copy TOS from the inner IP header"),
	UINT("tos", 0, 255, "0", "TOS value of the outer IP header"),
	FLAG("initiate-dead-peer-detection", "Initiate dead peer detection"),
	PRESENCE("dead-peer-detection", s_dpd, "Dead peer detection options"),
	END,
};

static const struct cfg_schema s_term[] = {
	CONTAINER("from", s_from, "Define match criteria"),
	CONTAINER("then", s_then, "Action to take if the 'from' condition is matched"),
	END,
};

static const struct cfg_schema s_rule[] = {
	ENUM("match-direction", e_match_direction, NULL, "Direction for which the rule match is applied"),
	LIST("term", CFG_T_NAME, 1, 63, CFG_F_ORDERED, s_term, "Define an IPSec term"),
	END,
};

static const struct cfg_schema s_rule_set[] = {
	LIST("rule", CFG_T_NAME, 1, 63, CFG_F_ORDERED, NULL, "Rule to include in the rule set"),
	END,
};

static const struct cfg_schema s_ike_proposal[] = {
	DESCRIPTION,
	ENUM("authentication-method", e_ike_auth_method, NULL, "Define authentication method"),
	ENUM("dh-group", e_dh_group, NULL, "Define Diffie-Hellman group"),
	ENUM("authentication-algorithm", e_ike_auth_alg, NULL, "Define authentication algorithm"),
	ENUM("encryption-algorithm", e_ike_enc_alg, NULL, "Define encryption algorithm"),
	UINT("lifetime-seconds", 180, 86400, "3600", "Lifetime, in seconds"),
	END,
};

static const struct cfg_schema s_local_id[] = {
	CHOICE_LEAF("ipv4_addr", CFG_T_IPV4, 0, 0, "id", 0, "IPV4 address identification"),
	CHOICE_LEAF("ipv6-addr", CFG_T_IPV6, 0, 0, "id", 0, "IPV6 address identification"),
	CHOICE_LEAF("fqdn", CFG_T_NAME, 1, 255, "id", 0, "Fully qualified domain name"),
	CHOICE_LEAF("key-id", CFG_T_STRING, 1, 255, "id", 0, "Key ID identification values"),
	{ .keyword = "distinguished-name", .kind = CFG_FLAG, .choice = "id",
	    .flags = CFG_F_REPLACE, .help = "Use the subject DN of the local certificate" },
	END,
};

static const struct cfg_schema s_remote_dn[] = {
	LEAFLIST("container", CFG_T_STRING, 1, 255, 0, "Container string for a distinguished name"),
	LEAFLIST("wildcard", CFG_T_STRING, 1, 255, 0, "Wildcard string for a distinguished name"),
	END,
};

static const struct cfg_schema s_remote_id[] = {
	FLAG("any-remote-id", "Allow any remote ID"),
	LEAFLIST("ipv4_addr", CFG_T_IPV4, 0, 0, 0, "IPV4 address identification"),
	LEAFLIST("ipv6-addr", CFG_T_IPV6, 0, 0, 0, "IPV6 address identification"),
	LEAFLIST("fqdn", CFG_T_NAME, 1, 255, 0, "Fully qualified domain name"),
	LEAFLIST("key-id", CFG_T_STRING, 1, 255, 0, "Key ID identification values"),
	CONTAINER("distinguished-name", s_remote_dn, "Distinguished name"),
	END,
};

static const struct cfg_schema s_bad_spi[] = {
	UINT("max-responses", 1, 30, "5", "Maximum number of responses"),
	END,
};

static const struct cfg_schema s_ike_policy[] = {
	DESCRIPTION,
	ENUM("mode", e_ike_mode, "main", "Define the IKE mode for Phase 1"),
	ENUM("version", e_ike_version, NULL, "Define the IKE version"),
	LEAFLIST("proposals", CFG_T_NAME, 1, 32, CFG_F_ORDERED, "Name of the proposal"),
	CONTAINER_F("local-id", s_local_id, CFG_F_INLINE, "Define local identification"),
	CONTAINER("remote-id", s_remote_id, "Define remote identification"),
	LEAF("local-certificate", CFG_T_NAME, 1, 255, "Local certificate identifier"),
	LEAFLIST("certificate-policy-oids", CFG_T_STRING, 1, 63, 0,
	    "Certificate policy object identifiers (maximum 5)"),
	ENUM("peer-certificate-type", e_peer_cert_type, "x509-signature",
	    "Preferred type of certificate from peer"),
	CONTAINER_F("pre-shared-key", s_key, CFG_F_INLINE, "Define a preshared key"),
	PRESENCE("respond-bad-spi", s_bad_spi, "Respond to IPSec packets with bad SPI values"),
	END,
};

static const struct cfg_schema s_ike[] = {
	LIST("proposal", CFG_T_NAME, 1, 32, 0, s_ike_proposal, "Define an IKE proposal"),
	LIST("policy", CFG_T_NAME, 1, 32, 0, s_ike_policy, "Define an IKE policy"),
	END,
};

static const struct cfg_schema s_ipsec_proposal[] = {
	DESCRIPTION,
	ENUM("protocol", e_protocol, NULL, "Define an IPSec protocol for the proposal"),
	ENUM("authentication-algorithm", e_ipsec_auth_alg, NULL, "Define authentication algorithm"),
	ENUM("encryption-algorithm", e_ipsec_enc_alg, NULL, "Define encryption algorithm"),
	UINT("lifetime-seconds", 180, 86400, "28800", "Lifetime, in seconds"),
	END,
};

static const struct cfg_schema s_pfs[] = {
	ENUM("keys", e_dh_group, NULL, "Define Diffie-Hellman group"),
	END,
};

static const struct cfg_schema s_ipsec_policy[] = {
	DESCRIPTION,
	CONTAINER("perfect-forward-secrecy", s_pfs, "Define perfect forward secrecy"),
	LEAFLIST("proposals", CFG_T_NAME, 1, 32, CFG_F_ORDERED, "Name of the proposal"),
	ENUM("proposal-set", e_proposal_set, NULL, "Types of default IPSEC proposal-set"),
	END,
};

static const struct cfg_schema s_ipsec[] = {
	LIST("proposal", CFG_T_NAME, 1, 32, 0, s_ipsec_proposal, "Define an IPSec proposal"),
	LIST("policy", CFG_T_NAME, 1, 32, 0, s_ipsec_policy, "Define an IPSec policy"),
	END,
};

static const struct cfg_schema s_trace_file[] = {
	LEAF("size", CFG_T_SIZE, 10240, 1073741824, "Maximum trace file size"),
	UINT("files", 2, 1000, "3", "Maximum number of trace files"),
	CHOICE_FLAG("world-readable", "wr", "Allow any user to read the log file"),
	CHOICE_FLAG("no-world-readable", "wr", "Don't allow any user to read the log file"),
	LEAF("match", CFG_T_STRING, 1, 255, "Regular expression for lines to be logged"),
	END,
};

static const struct cfg_schema s_traceoptions[] = {
	LEAF_F("file", CFG_T_NAME, 1, 1024, CFG_F_INLINE, s_trace_file, "Trace file information"),
	ENUM("level", e_trace_level, "error", "Level of debugging output"),
	LIST_ENUM("flag", e_trace_flag, 0, NULL, "Tracing parameters"),
	FLAG("no-remote-trace", "Disable remote tracing"),
	END,
};

static const struct cfg_schema s_ipsec_vpn[] = {
	LIST("rule", CFG_T_NAME, 1, 63, CFG_F_ORDERED, s_rule, "Define an IPSec rule"),
	LIST("rule-set", CFG_T_NAME, 1, 63, 0, s_rule_set, "Define a set of IPSec rules"),
	CONTAINER("ike", s_ike, "Configure IKE"),
	CONTAINER("ipsec", s_ipsec, "Configure IPSec"),
	CONTAINER("traceoptions", s_traceoptions, "Trace options for IPSec key management"),
	ENUM("establish-tunnels", e_establish, "on-traffic", "Time to establish tunnels"),
	FLAG("clear-ike-sas-on-pic-restart", "Clear IKE SAs when the corresponding PIC restarts"),
	FLAG("clear-ipsec-sas-on-pic-restart",
	    "Clear IPSec SAs when the corresponding PIC restarts"),
	FLAG("no-ipsec-tunnel-in-traceroute", "Don't display IPSec tunnel endpoint in traceroute"),
	FLAG("disable-natt", "Disable NAT traversal even if NAT is detected"),
	END,
};

static const struct cfg_schema s_interface_service[] = {
	LEAF("service-interface", CFG_T_IFNAME, 1, 63, "Service interface"),
	END,
};

static const struct cfg_schema s_next_hop_service[] = {
	LEAF("inside-service-interface", CFG_T_IFNAME, 1, 63,
	    "Service interface for the inside of the network"),
	LEAF("outside-service-interface", CFG_T_IFNAME, 1, 63,
	    "Service interface for the outside of the network"),
	ENUM("outside-service-interface-type", e_outside_type, NULL,
	    "Outside service interface type"),
	LEAF("service-interface-pool", CFG_T_NAME, 1, 63, "Service interface pool"),
	END,
};

static const struct cfg_schema s_local_gateway[] = {
	LEAF("routing-instance", CFG_T_NAME, 1, 128, "Routing instance of the local gateway"),
	LEAF("gw-interface", CFG_T_IFNAME, 1, 63,
	    "Interface whose address is the local gateway: clean up SAs when it goes down"),
	LEAF("interface", CFG_T_IFNAME, 1, 63, "Interface as local gateway"),
	END,
};

static const struct cfg_schema s_udp_encapsulate[] = {
	UINT("dest-port", 1025, 65535, "4565", "UDP destination port"),
	END,
};

static const struct cfg_schema s_vpn_options[] = {
	LEAF_F("local-gateway", CFG_T_IPADDR, 0, 0, CFG_F_INLINE, s_local_gateway,
	    "Address of the local gateway"),
	LEAF("ike-access-profile", CFG_T_NAME, 1, 32, "IKE access profile for dynamic peers"),
	LEAFLIST("trusted-ca", CFG_T_NAME, 1, 32, 0, "Trusted certificate authority profiles"),
	UINT("anti-replay-window-size", 64, 4096, "128", "Size of the anti-replay window"),
	FLAG("no-anti-replay", "Disable the anti-replay check"),
	CHOICE_FLAG("clear-dont-fragment-bit", "df", "Clear the don't fragment bit"),
	CHOICE_FLAG("copy-dont-fragment-bit", "df", "Copy the don't fragment bit"),
	CHOICE_FLAG("set-dont-fragment-bit", "df", "Set the don't fragment bit"),
	FLAG("passive-mode-tunneling", "Tunnel malformed packets"),
	UINT("tunnel-mtu", 256, 9192, NULL, "Maximum transmit packet size"),
	PRESENCE("udp-encapsulate", s_udp_encapsulate, "UDP encapsulation of IPSec data traffic"),
	FLAG("no-nat-traversal", "Disable NAT traversal for this service set"),
	UINT("nat-keepalive", 1, 300, NULL, "NAT-T keepalive interval (seconds)"),
	FLAG("no-certificate-chain-in-ike", "Send only the end-entity certificate in IKE"),
	END,
};

static const struct cfg_schema s_service_set[] = {
	CHOICE_CONTAINER("interface-service", "style", s_interface_service,
	    "Service set applied to an interface"),
	CHOICE_CONTAINER("next-hop-service", "style", s_next_hop_service,
	    "Service set used as a next hop"),
	CHOICE_LIST("ipsec-vpn-rules", CFG_T_NAME, 1, 63, "rules", CFG_F_ORDERED,
	    "IPSec VPN rule"),
	CHOICE_LIST("ipsec-vpn-rule-sets", CFG_T_NAME, 1, 63, "rules", CFG_F_ORDERED,
	    "IPSec VPN rule set"),
	CONTAINER("ipsec-vpn-options", s_vpn_options, "IPSec VPN service options"),
	UINT("tcp-mss", 536, 65535, NULL, "Limit the TCP maximum segment size"),
	END,
};

static const struct cfg_schema s_services[] = {
	CONTAINER("ipsec-vpn", s_ipsec_vpn, "IPSec VPN service"),
	LIST("service-set", CFG_T_NAME, 1, 63, 0, s_service_set, "Define a service set"),
	END,
};

static const struct cfg_schema s_service_set_ref[] = {
	LEAF("service-filter", CFG_T_NAME, 1, 63, "Filter selecting the packets for the set"),
	END,
};

static const struct cfg_schema s_service_dir[] = {
	LIST("service-set", CFG_T_NAME, 1, 63, CFG_F_INLINE | CFG_F_ORDERED, s_service_set_ref,
	    "Service set to apply"),
	END,
};

static const struct cfg_schema s_family_service[] = {
	CONTAINER("input", s_service_dir, "Services on incoming packets"),
	CONTAINER("output", s_service_dir, "Services on outgoing packets"),
	END,
};

static const struct cfg_schema s_family[] = {
	LIST("address", CFG_T_PREFIX, 0, 0, 0, NULL, "Interface address"),
	CONTAINER("service", s_family_service, "Service sets on this interface"),
	END,
};

static const struct cfg_schema s_unit[] = {
	DESCRIPTION,
	LIST_ENUM("family", e_family, 0, s_family, "Protocol family"),
	ENUM("service-domain", e_service_domain, NULL, "Service domain (next-hop service sets)"),
	END,
};

static const struct cfg_schema s_interface[] = {
	DESCRIPTION,
	LIST("unit", CFG_T_UINT, 0, 1073741823, 0, s_unit, "Logical interface"),
	END,
};

/* `interfaces ge-0/0/0 { ... }`: the list of interfaces has no keyword of its own. */
static const struct cfg_schema s_interfaces[] = {
	{ .keyword = "interface-name", .kind = CFG_LIST, .type = CFG_T_IFNAME, .min = 1,
	    .max = 63, .flags = CFG_F_KEYLESS, .children = s_interface, .help = "Interface name" },
	END,
};

static const struct cfg_schema s_ospf_interface[] = {
	LEAF("ipsec-sa", CFG_T_NAME, 1, 32, "IPSec security association for this interface"),
	FLAG("passive", "Do not run OSPF, but advertise the interface"),
	UINT("metric", 1, 65535, NULL, "Interface metric"),
	ENUM("interface-type", e_ospf_if_type, NULL, "Type of interface"),
	END,
};

static const struct cfg_schema s_ospf_area[] = {
	LIST("interface", CFG_T_IFNAME, 1, 63, 0, s_ospf_interface, "Include an interface"),
	END,
};

static const struct cfg_schema s_ospf[] = {
	LIST("area", CFG_T_AREA, 0, 0, 0, s_ospf_area, "Configure an OSPF area"),
	END,
};

static const struct cfg_schema s_protocols[] = {
	CONTAINER("ospf", s_ospf, "OSPF configuration"),
	CONTAINER("ospf3", s_ospf, "OSPFv3 configuration"),
	END,
};

static const struct cfg_schema s_sa_dynamic[] = {
	LEAF("ipsec-policy", CFG_T_NAME, 1, 32, "Name of the IPSec policy"),
	ENUM("replay-window-size", e_replay_window, NULL, "Size of the anti-replay window"),
	END,
};

static const struct cfg_schema s_security_sa[] = {
	DESCRIPTION,
	ENUM("mode", e_sa_mode, "tunnel", "Define the security association mode"),
	CHOICE_CONTAINER("manual", "sa", s_manual, "Define a manual security association"),
	CHOICE_CONTAINER("dynamic", "sa", s_sa_dynamic, "Define a dynamic security association"),
	END,
};

static const struct cfg_schema s_security_ipsec[] = {
	LIST("security-association", CFG_T_NAME, 1, 32, 0, s_security_sa,
	    "Define a security association"),
	END,
};

static const struct cfg_schema s_security[] = {
	CONTAINER("ipsec", s_security_ipsec, "IPSec configuration"),
	END,
};

static const struct cfg_schema s_root[] = {
	CONTAINER("services", s_services, "Service PIC applications settings"),
	CONTAINER("interfaces", s_interfaces, "Interface configuration"),
	CONTAINER("protocols", s_protocols, "Routing protocol configuration"),
	CONTAINER("security", s_security, "Security configuration"),
	END,
};

const struct cfg_schema cfg_schema_root = {
	.keyword = "",
	.kind = CFG_CONTAINER,
	.children = s_root,
	.help = "The configuration",
};
