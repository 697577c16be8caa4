/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Payloads as pieces (ckpt-payload-private.h). Pure data structure.
 */
#include "config.h"

#include <string.h>

#include "ckpt-payload-private.h"

struct _CkptPayload
{
  gatomicrefcount  ref_count;
  GPtrArray       *pieces;    /* of GBytes, none empty */
  gsize           *starts;    /* offset of each piece in the payload */
  gsize            size;
};

static CkptPayload *
payload_take (GPtrArray *pieces)
{
  CkptPayload *payload = g_new0 (CkptPayload, 1);
  guint i, n = 0;

  g_atomic_ref_count_init (&payload->ref_count);
  payload->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (i = 0; i < pieces->len; i++)
    {
      GBytes *piece = g_ptr_array_index (pieces, i);

      if (g_bytes_get_size (piece) > 0)
        g_ptr_array_add (payload->pieces, g_bytes_ref (piece));
    }
  g_ptr_array_unref (pieces);

  payload->starts = g_new (gsize, payload->pieces->len + 1);
  for (i = 0; i < payload->pieces->len; i++)
    {
      payload->starts[n++] = payload->size;
      payload->size += g_bytes_get_size (g_ptr_array_index (payload->pieces, i));
    }
  payload->starts[n] = payload->size;
  return payload;
}

CkptPayload *
ckpt_payload_new (GBytes *bytes)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_return_val_if_fail (bytes != NULL, NULL);

  g_ptr_array_add (pieces, g_bytes_ref (bytes));
  return payload_take (pieces);
}

CkptPayload *
ckpt_payload_new_pieces (GPtrArray *pieces)
{
  g_return_val_if_fail (pieces != NULL, NULL);

  return payload_take (pieces);
}

CkptPayload *
ckpt_payload_ref (CkptPayload *payload)
{
  g_return_val_if_fail (payload != NULL, NULL);

  g_atomic_ref_count_inc (&payload->ref_count);
  return payload;
}

void
ckpt_payload_unref (CkptPayload *payload)
{
  if (payload == NULL || !g_atomic_ref_count_dec (&payload->ref_count))
    return;
  g_ptr_array_unref (payload->pieces);
  g_free (payload->starts);
  g_free (payload);
}

gsize
ckpt_payload_get_size (CkptPayload *payload)
{
  g_return_val_if_fail (payload != NULL, 0);

  return payload->size;
}

guint
ckpt_payload_get_n_pieces (CkptPayload *payload)
{
  g_return_val_if_fail (payload != NULL, 0);

  return payload->pieces->len;
}

const guint8 *
ckpt_payload_get_piece (CkptPayload *payload,
                        guint        index,
                        gsize       *out_size)
{
  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (index < payload->pieces->len, NULL);

  return g_bytes_get_data (g_ptr_array_index (payload->pieces, index), out_size);
}

void
ckpt_payload_foreach_range (CkptPayload     *payload,
                            gsize            offset,
                            gsize            length,
                            CkptPayloadFunc  func,
                            gpointer         user_data)
{
  guint lo = 0, hi;

  g_return_if_fail (payload != NULL);
  g_return_if_fail (offset <= payload->size && length <= payload->size - offset);

  if (length == 0)
    return;

  /* The piece that holds @offset. */
  hi = payload->pieces->len;
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (payload->starts[mid] <= offset)
        lo = mid;
      else
        hi = mid;
    }

  for (; length > 0; lo++)
    {
      gsize piece_size, skip = offset - payload->starts[lo], n;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (payload->pieces, lo), &piece_size);

      n = MIN (piece_size - skip, length);
      func (data + skip, n, user_data);
      offset += n;
      length -= n;
    }
}

GBytes *
ckpt_payload_flatten (CkptPayload *payload)
{
  guint8 *data;
  gsize done = 0;
  guint i;

  g_return_val_if_fail (payload != NULL, NULL);

  if (payload->pieces->len == 0)
    return g_bytes_new (NULL, 0);
  if (payload->pieces->len == 1)
    return g_bytes_ref (g_ptr_array_index (payload->pieces, 0));

  data = g_malloc (payload->size);
  for (i = 0; i < payload->pieces->len; i++)
    {
      gsize size;
      const guint8 *piece = g_bytes_get_data (g_ptr_array_index (payload->pieces, i), &size);

      memcpy (data + done, piece, size);
      done += size;
    }
  return g_bytes_new_take (data, payload->size);
}
