/* SPDX-License-Identifier: MIT */
#include "client.h"
