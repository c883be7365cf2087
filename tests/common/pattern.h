/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pattern.h - the tests' name for the data pattern, which lives in
 * lib/vfio-memattr-pattern.h with the CLI and the examples that write it.
 */
#include "../../lib/vfio-memattr-pattern.h"
