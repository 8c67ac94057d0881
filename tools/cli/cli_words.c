#include "cli_words.h"

#include <string.h>

const char *
cli_keyword(const char *word, const char *const *keywords)
{
	const char *found = NULL;
	size_t len = strlen(word);

	for (; len > 0 && *keywords != NULL; keywords++) {
		if (strncmp(*keywords, word, len) != 0)
			continue;
		if (strcmp(*keywords, word) == 0)
			return *keywords;
		if (found != NULL)
			return NULL;
		found = *keywords;
	}
	return found;
}
