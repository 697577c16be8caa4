/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The checkpoint file format: pure code, bytes in and bytes out, no I/O.
 * docs/file-format.md is the specification; this is its implementation.
 */
#pragma once

#include <glib.h>

#include "ckpt-payload-private.h"

G_BEGIN_DECLS

/* Layout of the fixed header (all integers little-endian). The magic, the
 * version and the checksum (its field and its rule, over every byte of the
 * file but that field) are the same in every format version: what a reader
 * needs to tell a damaged file from one of a later version, of any layout.
 * Everything else is version 1's. */
#define CKPT_FORMAT_MAGIC              "\x89" "CKPT\r\n\x1a"
#define CKPT_FORMAT_MAGIC_LEN          8
#define CKPT_FORMAT_VERSION            1
#define CKPT_FORMAT_FIXED_HEADER_SIZE  64
/* The bytes that every version begins with: magic, version, [12, 40) (of
 * each version's own meaning), checksum. */
#define CKPT_FORMAT_PERMANENT_SIZE     48
/* What writers round header_size up to; readers need a multiple of 8. */
#define CKPT_FORMAT_HEADER_ALIGN       64
#define CKPT_FORMAT_OFFSET_VERSION      8
#define CKPT_FORMAT_OFFSET_HEADER_SIZE 12
#define CKPT_FORMAT_OFFSET_PAYLOAD_SIZE 16
#define CKPT_FORMAT_OFFSET_ROUND       24
#define CKPT_FORMAT_OFFSET_CTIME       32
#define CKPT_FORMAT_OFFSET_CHECKSUM    40
#define CKPT_FORMAT_OFFSET_META_SIZE   48
#define CKPT_FORMAT_OFFSET_BYTE_ORDER  52
#define CKPT_FORMAT_META_TYPE          "(sa{sv})"
#define CKPT_FORMAT_CHECKSUM_SEED      G_GUINT64_CONSTANT (0x43504b4356303031)  /* "100VCKPC" */

typedef enum
{
  CKPT_FORMAT_ENCODE_NONE     = 0,
  /* Write the payload and metadata in the byte order opposite to the host's
   * (only used to make test fixtures). */
  CKPT_FORMAT_ENCODE_BYTESWAP = 1 << 0,
  /* Unsealed: leave the header's checksum field zero for the writer to
   * fill in (ckpt-seal-private.h, e.g. while it writes the payload) at
   * CKPT_FORMAT_OFFSET_CHECKSUM before the file is made visible. */
  CKPT_FORMAT_ENCODE_UNSEALED = 1 << 1,
} CkptFormatEncodeFlags;

typedef enum
{
  CKPT_FORMAT_DECODE_NONE      = 0,
  /* Trusted data: skip the checksum and the normal-form walk of the
   * payload (the header is still checked). */
  CKPT_FORMAT_DECODE_NO_VERIFY = 1 << 0,
  /* The bytes are shared with others who may change them while the value
   * is alive (a mapping of the file): never wrap them as trusted. The
   * payload is still checked (unless NO_VERIFY), but the value returned
   * over it is untrusted, so that GVariant checks again what it reads, as
   * it reads it; a payload that must be byteswapped is first copied. */
  CKPT_FORMAT_DECODE_SHARED    = 1 << 1,
} CkptFormatDecodeFlags;

typedef struct
{
  guint32       version;
  gint64        round_num;
  gint64        ctime_usec;       /* microseconds since the Unix epoch, UTC */
  char          byte_order;       /* 'l' or 'B', of metadata and payload */
  guint32       header_size;      /* offset of the payload */
  guint64       payload_size;
  guint64       checksum;
  GVariantType *type;             /* owned */
  GVariant     *metadata;         /* owned, a{sv}, in host byte order */
} CkptFormatHeader;

void       ckpt_format_header_clear   (CkptFormatHeader      *header);

/* The checksum of a file, in pieces: begin with the whole header (its
 * checksum field is skipped, whatever it holds), feed the payload in file
 * order in as many pieces as wanted, then finish (which frees the state).
 * The result is what belongs at CKPT_FORMAT_OFFSET_CHECKSUM. */
typedef struct _CkptFormatChecksum CkptFormatChecksum;

CkptFormatChecksum *ckpt_format_checksum_begin  (const guint8        *header,
                                                 gsize                header_size);
void                ckpt_format_checksum_update (CkptFormatChecksum  *checksum,
                                                 const guint8        *data,
                                                 gsize                size);
guint64             ckpt_format_checksum_finish (CkptFormatChecksum  *checksum);
/* Frees an unfinished checksum (a write that failed). */
void                ckpt_format_checksum_free   (CkptFormatChecksum  *checksum);

/* Encodes @state (any GVariant; floating references are sunk) as a checkpoint
 * of @round_num. The result is two pieces to be written one after the other:
 * @out_header (the header, checksum included) and @out_payload (the state's
 * serialised bytes, not copied when @state is already in normal form and in
 * host byte order). @metadata is an optional a{sv} of user metadata merged
 * into the header's metadata. */
void       ckpt_format_encode         (GVariant              *state,
                                       gint64                 round_num,
                                       gint64                 ctime_usec,
                                       GVariant              *metadata,
                                       CkptFormatEncodeFlags  flags,
                                       GBytes               **out_header,
                                       GBytes               **out_payload);

/* ckpt_format_encode() with the payload as pieces (ckpt-payload-private.h):
 * the large serialised leaves of a state in tree form are referenced, not
 * copied. What the storage writes. */
void       ckpt_format_encode_payload (GVariant              *state,
                                       gint64                 round_num,
                                       gint64                 ctime_usec,
                                       GVariant              *metadata,
                                       CkptFormatEncodeFlags  flags,
                                       GBytes               **out_header,
                                       CkptPayload          **out_payload);

/* A tree-form state of at least CKPT_FORMAT_PIECES_MIN bytes is written as
 * pieces (ckpt-format-pieces-private.h): its serialised children of at
 * least CKPT_FORMAT_PIECE_MIN bytes are pieces of their own, smaller
 * subtrees are copied (which costs less than a piece each). */
#define CKPT_FORMAT_PIECES_MIN (1024 * 1024)

/* Concatenates what ckpt_format_encode() gives (tests, small files). */
GBytes    *ckpt_format_encode_bytes   (GVariant              *state,
                                       gint64                 round_num,
                                       gint64                 ctime_usec,
                                       CkptFormatEncodeFlags  flags);

/* Reads and validates the header only (including the checksum unless
 * CKPT_FORMAT_DECODE_NO_VERIFY). Errors: CKPT_ERROR_CORRUPT,
 * CKPT_ERROR_UNSUPPORTED. */
gboolean   ckpt_format_read_header    (GBytes                *file,
                                       CkptFormatDecodeFlags  flags,
                                       CkptFormatHeader      *out_header,
                                       GError               **error);

/* Decodes and verifies a whole checkpoint file held in @file (which may be a
 * mapping: the returned value references it, no copy is made when the file is
 * in host byte order). @expected_round is checked against the header unless
 * negative; @type, when not %NULL, must be a supertype of the stored type
 * (else CKPT_ERROR_TYPE_MISMATCH). The returned value is in host byte order,
 * and was found in normal form unless CKPT_FORMAT_DECODE_NO_VERIFY. It is
 * trusted by GVariant only when it was verified and @file is private
 * (without CKPT_FORMAT_DECODE_SHARED) or was copied. */
GVariant  *ckpt_format_decode         (GBytes                *file,
                                       gint64                 expected_round,
                                       const GVariantType    *type,
                                       CkptFormatDecodeFlags  flags,
                                       CkptFormatHeader      *out_header,
                                       GError               **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CkptFormatHeader, ckpt_format_header_clear)

G_END_DECLS
