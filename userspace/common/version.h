/* SPDX-License-Identifier: MIT */
#ifndef TW_VERSION_H
#define TW_VERSION_H

#define TLSWATCH_VERSION "0.1.0"

#endif
