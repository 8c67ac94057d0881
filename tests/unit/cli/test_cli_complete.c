/* Tab completion and `?` in operational mode come from the command table: every command's
 * words, abbreviations resolved, the options of the IPsec commands, and a hint where a
 * value is expected. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli.h"

static size_t
complete(const char *line, struct cli_choice *out, size_t max, char *hint, size_t hintlen)
{
	struct cli cli;

	memset(&cli, 0, sizeof(cli));
	return cli_complete(&cli, line, out, max, hint, hintlen);
}

/* The choices as one space-separated string, in the order given. */
static void
words_of(const char *line, char *buf, size_t len, char *hint, size_t hintlen)
{
	struct cli_choice c[32];
	size_t n = complete(line, c, 32, hint, hintlen), i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(buf, c[i].word, len - strlen(buf) - 1);
		if (i + 1 < n)
			strncat(buf, " ", len - strlen(buf) - 1);
	}
}

#define ASSERT_CHOICES(line, want) do {						\
	char got_[512], hint_[64];						\
	words_of((line), got_, sizeof(got_), hint_, sizeof(hint_));		\
	cr_assert_str_eq(got_, (want), "'%s' completes to '%s'", (line), got_);	\
} while (0)

Test(cli_complete, the_first_word_is_any_command)
{
	ASSERT_CHOICES("", "show clear request configure help exit quit");
	ASSERT_CHOICES("c", "clear configure");
}

Test(cli_complete, words_follow_the_table_with_abbreviations)
{
	ASSERT_CHOICES("show ", "configuration system bus services chassis");
	ASSERT_CHOICES("show serv", "services");
	ASSERT_CHOICES("sh ser ipsec-vpn ipsec ", "security-associations statistics");
	ASSERT_CHOICES("clear services ipsec-vpn ipsec s", "security-associations statistics");
	ASSERT_CHOICES("show nothing-like-this ", "");
}

Test(cli_complete, the_ipsec_commands_offer_their_options)
{
	char got[512], hint[64];

	ASSERT_CHOICES("show services ipsec-vpn ipsec security-associations ",
	    "brief detail service-set");
	ASSERT_CHOICES("show services ipsec-vpn ipsec statistics d", "detail");
	ASSERT_CHOICES("clear services ipsec-vpn ipsec statistics ", "service-set");
	words_of("show services ipsec-vpn ipsec security-associations service-set ", got,
	    sizeof(got), hint, sizeof(hint));
	cr_assert_str_empty(got);
	cr_assert_str_eq(hint, "<NAME>");
}

Test(cli_complete, a_value_gets_a_hint)
{
	char got[512], hint[64];

	words_of("request bus ping ", got, sizeof(got), hint, sizeof(hint));
	cr_assert_str_empty(got);
	cr_assert_str_eq(hint, "<SERVICE>");
}

Test(cli_complete, show_configuration_still_walks_the_schema)
{
	ASSERT_CHOICES("show configuration serv", "services");
}
