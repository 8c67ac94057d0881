/* The words of operational commands, as Junos reads them. */
#ifndef PICSEC_CLI_WORDS_H
#define PICSEC_CLI_WORDS_H

/* The keyword word stands for: itself, or any prefix of exactly one of keywords
 * (NULL-terminated). NULL if none or ambiguous. */
const char *cli_keyword(const char *word, const char *const *keywords);

#endif
