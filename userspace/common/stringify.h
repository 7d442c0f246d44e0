/* SPDX-License-Identifier: MIT */
#ifndef TW_STRINGIFY_H
#define TW_STRINGIFY_H

/*
 * A macro's value as a string literal, for bounds said in help, error and
 * SQL text: TW_STRINGIFY(OCSP_SKEW_S) is "300". The inner step expands
 * the argument first; # alone would give the macro's name.
 */
#define TW_STRINGIFY_(x) #x
#define TW_STRINGIFY(x) TW_STRINGIFY_(x)

#endif
