/* SPDX-License-Identifier: LGPL-2.1-or-later */
namespace Ckpt {
	public sealed class Manager : GLib.Object {
		/* vapigen drops the gsize length type of an async method's array
		 * result (it would pass a gint* as n_rounds). */
		[CCode (array_length_type = "gsize", finish_name = "ckpt_manager_list_rounds_finish")]
		[Version (since = "1.0")]
		public async int64[] list_rounds_async (GLib.Cancellable? cancellable = null) throws GLib.Error;
		[CCode (array_length_type = "gsize", finish_name = "ckpt_manager_prune_finish")]
		[Version (since = "1.0")]
		public async int64[] prune_async (Ckpt.PruneFlags flags, GLib.Cancellable? cancellable = null) throws GLib.Error;
	}
}
