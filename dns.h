/* SPDX-License-Identifier: MIT */
#ifndef L2TPD_DNS_H
#define L2TPD_DNS_H
#endif
