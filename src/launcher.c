/* launcher.c — placeholder until the rollout workers land */
#include "postgres.h"
#include "bytebase.h"

/* Registers the static launcher worker; filled in by the rollout work. */
void
bb_launcher_register(void)
{
}
