/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The checkpoint file format (docs/file-format.md): encoding and decoding,
 * bytes in and bytes out. Nothing here touches the file system.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>
#include <xxh_x86dispatch.h>

#include "ckpt-error.h"
#include "ckpt-format-private.h"
#include "ckpt-format-pieces-private.h"
#include "ckpt-normal-private.h"

#define META_KEY_LIBRARY_VERSION "ckpt-glib-version"

static inline guint32
read_u32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_LE (v);
}

static inline guint64
read_u64 (const guint8 *p)
{
  guint64 v;
  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_LE (v);
}

static inline void
write_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

static inline void
write_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

static inline char
host_byte_order (void)
{
  return G_BYTE_ORDER == G_LITTLE_ENDIAN ? 'l' : 'B';
}

struct _CkptFormatChecksum
{
  XXH3_state_t *state;
};

CkptFormatChecksum *
ckpt_format_checksum_begin (const guint8 *header,
                            gsize         header_size)
{
  CkptFormatChecksum *checksum;

  g_return_val_if_fail (header != NULL, NULL);
  g_return_val_if_fail (header_size >= CKPT_FORMAT_OFFSET_CHECKSUM + 8, NULL);

  checksum = g_new (CkptFormatChecksum, 1);
  checksum->state = XXH3_createState ();
  if (checksum->state == NULL)
    g_error ("ckpt-glib: out of memory allocating a checksum state");

  /* [0, 40) and [48, header_size): everything but the checksum field. */
  XXH3_64bits_reset_withSeed (checksum->state, CKPT_FORMAT_CHECKSUM_SEED);
  XXH3_64bits_update_dispatch (checksum->state, header, CKPT_FORMAT_OFFSET_CHECKSUM);
  XXH3_64bits_update_dispatch (checksum->state, header + CKPT_FORMAT_OFFSET_CHECKSUM + 8,
                               header_size - CKPT_FORMAT_OFFSET_CHECKSUM - 8);
  return checksum;
}

void
ckpt_format_checksum_update (CkptFormatChecksum *checksum,
                             const guint8       *data,
                             gsize               size)
{
  g_return_if_fail (checksum != NULL);

  if (size > 0)
    XXH3_64bits_update_dispatch (checksum->state, data, size);
}

void
ckpt_format_checksum_free (CkptFormatChecksum *checksum)
{
  if (checksum == NULL)
    return;
  XXH3_freeState (checksum->state);
  g_free (checksum);
}

guint64
ckpt_format_checksum_finish (CkptFormatChecksum *checksum)
{
  guint64 digest;

  g_return_val_if_fail (checksum != NULL, 0);

  digest = XXH3_64bits_digest (checksum->state);
  ckpt_format_checksum_free (checksum);
  return digest;
}

/* XXH3-64 over [0, 40) and [48, header_size) of @header, then @payload:
 * with @header the whole file and no @payload, the rule of every format
 * version (docs/file-format.md, Versioning). */
static guint64
compute_checksum (const guint8 *header,
                  gsize         header_size,
                  const guint8 *payload,
                  gsize         payload_size)
{
  CkptFormatChecksum *checksum = ckpt_format_checksum_begin (header, header_size);

  ckpt_format_checksum_update (checksum, payload, payload_size);
  return ckpt_format_checksum_finish (checksum);
}

void
ckpt_format_header_clear (CkptFormatHeader *header)
{
  g_clear_pointer (&header->type, g_variant_type_free);
  g_clear_pointer (&header->metadata, g_variant_unref);
  memset (header, 0, sizeof *header);
}

/* The serialised bytes of @value, which is in normal form. Serialised data
 * is shared, not copied. A tree is serialised into a new buffer with
 * g_variant_store(): g_variant_get_data() would also turn the caller's
 * value into serialised form and free every node of its tree, which for a
 * state of 10,000 named values is half the cost of serialising it, paid
 * inside the save (the caller's value stays as it was built and is freed
 * when the caller drops it). */
#define SERIALISE_HUGE_MIN   (4 << 20)
#define SERIALISE_HUGE_ALIGN (2 << 20)

static GBytes *
serialise (GVariant *value)
{
  gsize size;
  gpointer data;

  if (!ckpt_format_is_tree_form (value))
    return g_variant_get_data_as_bytes (value);

  size = g_variant_get_size (value);
#if defined(MADV_HUGEPAGE)
  /* A large buffer in huge pages, as numpy allocates its arrays: filling
   * 256 MiB of fresh 4 KiB pages costs 65536 page faults (about 0.2 s on a
   * VM), more than the copy itself. */
  if (size >= SERIALISE_HUGE_MIN)
    {
      data = NULL;
      if (posix_memalign (&data, SERIALISE_HUGE_ALIGN, size) == 0)
        {
          madvise (data, size, MADV_HUGEPAGE);
          g_variant_store (value, data);
          return g_bytes_new_with_free_func (data, size, free, data);
        }
    }
#endif
  data = g_malloc (size);
  g_variant_store (value, data);
  return g_bytes_new_take (data, size);
}

static GVariant *
build_metadata (GVariant *user_metadata)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (user_metadata != NULL)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_return_val_if_fail (g_variant_is_of_type (user_metadata, G_VARIANT_TYPE_VARDICT), NULL);

      g_variant_iter_init (&iter, user_metadata);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          if (g_strcmp0 (key, META_KEY_LIBRARY_VERSION) != 0)
            g_variant_builder_add (&builder, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  g_variant_builder_add (&builder, "{sv}", META_KEY_LIBRARY_VERSION,
                         g_variant_new_string (PACKAGE_VERSION));

  return g_variant_builder_end (&builder);
}

/* The payload of @value (in normal form): its serialised bytes, as pieces
 * when it is a large tree whose big leaves are serialised already (see
 * ckpt-format-pieces.c), so that those are written from where they are
 * rather than copied into one buffer first. */
static CkptPayload *
serialise_payload (GVariant *value)
{
  g_autoptr(GBytes) bytes = NULL;

  if (ckpt_format_is_tree_form (value) && g_variant_get_size (value) >= CKPT_FORMAT_PIECES_MIN)
    {
      gsize size;
      GPtrArray *pieces = ckpt_format_serialise_pieces (value, CKPT_FORMAT_PIECE_MIN, &size);

      return ckpt_payload_new_pieces (pieces);
    }
  bytes = serialise (value);
  return ckpt_payload_new (bytes);
}

static void
checksum_range (const guint8 *data,
                gsize         size,
                gpointer      user_data)
{
  ckpt_format_checksum_update (user_data, data, size);
}

void
ckpt_format_encode_payload (GVariant               *state,
                            gint64                  round_num,
                            gint64                  ctime_usec,
                            GVariant               *metadata,
                            CkptFormatEncodeFlags   flags,
                            GBytes                **out_header,
                            CkptPayload           **out_payload)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GVariant) normal = NULL;
  g_autoptr(GVariant) meta = NULL;
  g_autoptr(CkptPayload) payload = NULL;
  g_autoptr(GBytes) meta_bytes = NULL;
  gsize payload_size, meta_size, header_size;
  guint8 *header;
  char byte_order = host_byte_order ();

  g_return_if_fail (state != NULL);
  g_return_if_fail (round_num >= 0);
  g_return_if_fail (out_header != NULL && out_payload != NULL);

  sunk = g_variant_ref_sink (state);
  /* A new reference, without a copy, when the value is trusted to be in
   * normal form already (anything built with g_variant_new_*, or loaded by
   * this library). */
  normal = g_variant_get_normal_form (sunk);

  meta = g_variant_ref_sink (g_variant_new ("(s@a{sv})",
                                            g_variant_get_type_string (normal),
                                            build_metadata (metadata)));

  if (flags & CKPT_FORMAT_ENCODE_BYTESWAP)
    {
      GVariant *swapped;

      swapped = g_variant_byteswap (normal);
      g_variant_unref (normal);
      normal = swapped;

      swapped = g_variant_byteswap (meta);
      g_variant_unref (meta);
      meta = swapped;

      byte_order = byte_order == 'l' ? 'B' : 'l';
    }

  payload = serialise_payload (normal);
  meta_bytes = g_variant_get_data_as_bytes (meta);
  payload_size = ckpt_payload_get_size (payload);
  meta_size = g_bytes_get_size (meta_bytes);

  /* A metadata dictionary of more than 4 GiB is a caller bug, not data. */
  g_return_if_fail (meta_size <= G_MAXUINT32 - CKPT_FORMAT_FIXED_HEADER_SIZE - 8);

  /* A multiple of 64 (readers accept any multiple of 8): the payload then
   * sits at the same offset within a cache line in the file as in a
   * 64-byte aligned buffer, and the kernel's copy into the page cache runs
   * at full speed (an unaligned payload costs a few percent of a large
   * save: docs/performance.md). */
  header_size = (CKPT_FORMAT_FIXED_HEADER_SIZE + meta_size + CKPT_FORMAT_HEADER_ALIGN - 1) &
                ~(gsize) (CKPT_FORMAT_HEADER_ALIGN - 1);
  header = g_malloc0 (header_size);

  memcpy (header, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN);
  write_u32 (header + CKPT_FORMAT_OFFSET_VERSION, CKPT_FORMAT_VERSION);
  write_u32 (header + CKPT_FORMAT_OFFSET_HEADER_SIZE, (guint32) header_size);
  write_u64 (header + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE, payload_size);
  write_u64 (header + CKPT_FORMAT_OFFSET_ROUND, (guint64) round_num);
  write_u64 (header + CKPT_FORMAT_OFFSET_CTIME, (guint64) ctime_usec);
  write_u32 (header + CKPT_FORMAT_OFFSET_META_SIZE, (guint32) meta_size);
  header[CKPT_FORMAT_OFFSET_BYTE_ORDER] = (guint8) byte_order;
  if (meta_size > 0)
    memcpy (header + CKPT_FORMAT_FIXED_HEADER_SIZE,
            g_bytes_get_data (meta_bytes, NULL), meta_size);

  if (!(flags & CKPT_FORMAT_ENCODE_UNSEALED))
    {
      CkptFormatChecksum *checksum = ckpt_format_checksum_begin (header, header_size);

      ckpt_payload_foreach_range (payload, 0, payload_size, checksum_range, checksum);
      write_u64 (header + CKPT_FORMAT_OFFSET_CHECKSUM, ckpt_format_checksum_finish (checksum));
    }

  *out_header = g_bytes_new_take (header, header_size);
  *out_payload = g_steal_pointer (&payload);
}

void
ckpt_format_encode (GVariant               *state,
                    gint64                  round_num,
                    gint64                  ctime_usec,
                    GVariant               *metadata,
                    CkptFormatEncodeFlags   flags,
                    GBytes                **out_header,
                    GBytes                **out_payload)
{
  g_autoptr(CkptPayload) payload = NULL;

  g_return_if_fail (out_payload != NULL);

  ckpt_format_encode_payload (state, round_num, ctime_usec, metadata, flags, out_header, &payload);
  *out_payload = payload != NULL ? ckpt_payload_flatten (payload) : NULL;
}

GBytes *
ckpt_format_encode_bytes (GVariant              *state,
                          gint64                 round_num,
                          gint64                 ctime_usec,
                          CkptFormatEncodeFlags  flags)
{
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GByteArray) file = NULL;

  ckpt_format_encode (state, round_num, ctime_usec, NULL, flags, &header, &payload);
  g_return_val_if_fail (header != NULL, NULL);

  file = g_byte_array_sized_new (g_bytes_get_size (header) + g_bytes_get_size (payload));
  g_byte_array_append (file, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  g_byte_array_append (file, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));

  return g_byte_array_free_to_bytes (g_steal_pointer (&file));
}

static gboolean
corrupt (GError     **error,
         const char  *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
corrupt (GError     **error,
         const char  *format,
         ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error_literal (error, CKPT_ERROR, CKPT_ERROR_CORRUPT, msg);
  return FALSE;
}

/* Makes @value (untrusted, of the declared byte order) a trusted value in
 * host byte order, or fails if it is not in normal form. Normal form does
 * not depend on the byte order: framing offsets are always little-endian,
 * and every bit pattern of a number is normal. */
static GVariant *
trust_value (const GVariantType  *type,
             GBytes              *bytes,
             char                 byte_order,
             const char          *what,
             GError             **error)
{
  g_autoptr(GVariant) trusted = NULL;
  gsize size;
  gconstpointer data = g_bytes_get_data (bytes, &size);

  if (!ckpt_normal_form_check (type, data, size))
    {
      corrupt (error, "The %s is not in normal form", what);
      return NULL;
    }

  /* Checked: the same bytes, trusted, so that GVariant does not check them
   * again (on access, on a re-save, or while byteswapping). */
  trusted = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, TRUE));
  if (byte_order != host_byte_order ())
    return g_variant_byteswap (trusted);

  return g_steal_pointer (&trusted);
}

static gboolean
parse_header (const guint8           *data,
              gsize                   size,
              CkptFormatDecodeFlags   flags,
              CkptFormatHeader       *out,
              GError                **error)
{
  guint32 version, header_size, meta_size;
  guint64 payload_size, checksum;
  gint64 round_num;
  char byte_order;
  const char *type_string;
  g_autoptr(GVariant) meta = NULL;
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(GBytes) meta_bytes = NULL;
  gsize i;

  if (size < CKPT_FORMAT_PERMANENT_SIZE)
    return corrupt (error, "The file is too short to be a checkpoint (%" G_GSIZE_FORMAT " bytes)", size);

  if (memcmp (data, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN) != 0)
    return corrupt (error, "The file is not a checkpoint (bad magic number)");

  /* A later version: only what every version keeps is read (the magic, the
   * version and the checksum, over every byte of the file but its own
   * field), never this version's layout, which that file need not have. An
   * intact file of a later version is unsupported; a damaged one, of
   * whatever version it claims, is corrupt. */
  version = read_u32 (data + CKPT_FORMAT_OFFSET_VERSION);
  checksum = read_u64 (data + CKPT_FORMAT_OFFSET_CHECKSUM);
  if (version > CKPT_FORMAT_VERSION)
    {
      if (!(flags & CKPT_FORMAT_DECODE_NO_VERIFY) &&
          checksum != compute_checksum (data, size, NULL, 0))
        return corrupt (error, "Checksum mismatch: the file was altered or damaged");

      g_set_error (error, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED,
                   "The checkpoint is in file format version %u, newer than "
                   "ckpt-glib %s reads (format version %u and older): it needs "
                   "a later ckpt-glib", version, PACKAGE_VERSION, CKPT_FORMAT_VERSION);
      return FALSE;
    }

  /* Version 1 (or a damaged file claiming version 0). */
  if (size < CKPT_FORMAT_FIXED_HEADER_SIZE)
    return corrupt (error, "The file is too short to be a checkpoint (%" G_GSIZE_FORMAT " bytes)", size);

  header_size = read_u32 (data + CKPT_FORMAT_OFFSET_HEADER_SIZE);
  payload_size = read_u64 (data + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE);

  if (header_size < CKPT_FORMAT_FIXED_HEADER_SIZE || header_size % 8 != 0 ||
      header_size > size)
    return corrupt (error, "The header declares an invalid size (%u bytes)", header_size);

  if (payload_size != size - header_size)
    return corrupt (error, "The file is %" G_GSIZE_FORMAT " bytes long but declares %"
                    G_GUINT64_FORMAT " (truncated or extended)",
                    size, (guint64) header_size + payload_size);

  /* The same bytes as the rule above: the sizes say that the file is the
   * header and the payload. */
  if (!(flags & CKPT_FORMAT_DECODE_NO_VERIFY) &&
      checksum != compute_checksum (data, header_size, data + header_size, payload_size))
    return corrupt (error, "Checksum mismatch: the file was altered or damaged");

  if (version == 0)
    return corrupt (error, "Invalid format version 0");

  for (i = CKPT_FORMAT_OFFSET_BYTE_ORDER + 1; i < CKPT_FORMAT_FIXED_HEADER_SIZE; i++)
    if (data[i] != 0)
      return corrupt (error, "Reserved header byte %" G_GSIZE_FORMAT " is not zero", i);

  byte_order = (char) data[CKPT_FORMAT_OFFSET_BYTE_ORDER];
  if (byte_order != 'l' && byte_order != 'B')
    return corrupt (error, "Invalid byte order mark 0x%02x", (guint) (guint8) byte_order);

  round_num = (gint64) read_u64 (data + CKPT_FORMAT_OFFSET_ROUND);
  if (round_num < 0)
    return corrupt (error, "Invalid round %" G_GINT64_FORMAT, round_num);

  meta_size = read_u32 (data + CKPT_FORMAT_OFFSET_META_SIZE);
  if (meta_size > header_size - CKPT_FORMAT_FIXED_HEADER_SIZE)
    return corrupt (error, "The metadata size exceeds the header");
  for (i = CKPT_FORMAT_FIXED_HEADER_SIZE + meta_size; i < header_size; i++)
    if (data[i] != 0)
      return corrupt (error, "Header padding is not zero");

  /* The metadata is small: copy it so that it is aligned and independent of
   * the file's lifetime. */
  meta_bytes = g_bytes_new (data + CKPT_FORMAT_FIXED_HEADER_SIZE, meta_size);
  meta = trust_value (G_VARIANT_TYPE (CKPT_FORMAT_META_TYPE), meta_bytes, byte_order,
                      "header metadata", error);
  if (meta == NULL)
    return FALSE;

  g_variant_get (meta, "(&s@a{sv})", &type_string, &dict);
  if (!g_variant_type_string_is_valid (type_string) ||
      !g_variant_type_is_definite (G_VARIANT_TYPE (type_string)))
    return corrupt (error, "The header holds an invalid type string");

  if (out != NULL)
    {
      out->version = version;
      out->round_num = round_num;
      out->ctime_usec = (gint64) read_u64 (data + CKPT_FORMAT_OFFSET_CTIME);
      out->byte_order = byte_order;
      out->header_size = header_size;
      out->payload_size = payload_size;
      out->checksum = checksum;
      out->type = g_variant_type_new (type_string);
      out->metadata = g_steal_pointer (&dict);
    }

  return TRUE;
}

gboolean
ckpt_format_read_header (GBytes                 *file,
                         CkptFormatDecodeFlags   flags,
                         CkptFormatHeader       *out_header,
                         GError                **error)
{
  gsize size;
  const guint8 *data;

  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (out_header != NULL)
    memset (out_header, 0, sizeof *out_header);

  data = g_bytes_get_data (file, &size);
  return parse_header (data, size, flags, out_header, error);
}

GVariant *
ckpt_format_decode (GBytes                 *file,
                    gint64                  expected_round,
                    const GVariantType     *type,
                    CkptFormatDecodeFlags   flags,
                    CkptFormatHeader       *out_header,
                    GError                **error)
{
  g_auto(CkptFormatHeader) header = { 0, };
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GVariant) raw = NULL;

  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_format_read_header (file, flags, &header, error))
    return NULL;

  if (expected_round >= 0 && header.round_num != expected_round)
    {
      corrupt (error, "The file holds round %" G_GINT64_FORMAT ", not round %" G_GINT64_FORMAT,
               header.round_num, expected_round);
      return NULL;
    }

  if (type != NULL && !g_variant_type_is_subtype_of (header.type, type))
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH,
                   "The checkpoint holds a value of type ‘%s’, not of type ‘%.*s’",
                   g_variant_type_peek_string (header.type),
                   (int) g_variant_type_get_string_length (type),
                   g_variant_type_peek_string (type));
      return NULL;
    }

  if ((flags & CKPT_FORMAT_DECODE_SHARED) && header.byte_order != host_byte_order ())
    {
      /* Byteswapping walks the value as trusted: it must not change under
       * the walk, nor afterwards (the result is trusted). Copy it first,
       * then check and swap the copy, which is ours. */
      payload = g_bytes_new ((const guint8 *) g_bytes_get_data (file, NULL) + header.header_size,
                             header.payload_size);
      flags &= ~CKPT_FORMAT_DECODE_SHARED;
    }
  else
    payload = g_bytes_new_from_bytes (file, header.header_size, header.payload_size);

  /* Checked, then trusted: private bytes, verified or to be byteswapped. */
  if (header.byte_order != host_byte_order () ||
      !(flags & (CKPT_FORMAT_DECODE_NO_VERIFY | CKPT_FORMAT_DECODE_SHARED)))
    raw = trust_value (header.type, payload, header.byte_order, "state", error);
  else if (!(flags & CKPT_FORMAT_DECODE_NO_VERIFY) &&
           !ckpt_normal_form_check (header.type, g_bytes_get_data (payload, NULL),
                                    header.payload_size))
    corrupt (error, "The state is not in normal form");
  else
    raw = g_variant_ref_sink (g_variant_new_from_bytes (header.type, payload, FALSE));
  /* Unverified, or shared: the value stays *untrusted* for GVariant, which
   * then checks what it reads as it is read (string termination, offsets),
   * so a damaged file gives wrong values, never a crash. File data must
   * never be wrapped as trusted unchecked: GVariant skips those checks for
   * trusted data. Nor may shared data be, even checked: whoever changes the
   * file after the check (a stray write, a tool) would change trusted data,
   * and GVariant would read a string whose NUL is gone beyond its end. The
   * check of a shared payload is still worth its time: a load reports
   * damage as an error, and the checksum only vouches for what it read. */
  if (raw == NULL)
    return NULL;

  if (out_header != NULL)
    {
      *out_header = header;
      memset (&header, 0, sizeof header);
    }

  return g_steal_pointer (&raw);
}
