/* SPDX-License-Identifier: MIT */
#ifndef L2TPD_CLIENT_H
#define L2TPD_CLIENT_H
#endif
