/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `ckpt` command-line tool: what the commands share. The tool is a user
 * of the public API only (<ckpt-glib/ckpt-glib.h>), never of private
 * headers.
 */
#pragma once

#include <ckpt-glib/ckpt-glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit statuses. */
enum
{
  CKPT_TOOL_EXIT_OK      = 0,
  CKPT_TOOL_EXIT_FAILURE = 1,  /* something went wrong, or is damaged */
  CKPT_TOOL_EXIT_USAGE   = 2,  /* bad command line */
};

/* A round argument: a number, or "latest" (CKPT_TOOL_ROUND_LATEST). */
#define CKPT_TOOL_ROUND_LATEST ((gint64) -1)

/* One command: `ckpt <name> <synopsis>`; @run gets argv[0] == name. */
typedef struct
{
  const char *name;
  const char *synopsis;
  const char *summary;
  int       (*run) (int argc, char **argv);
} CkptToolCommand;

int       ckpt_tool_command_list   (int argc, char **argv);
int       ckpt_tool_command_show   (int argc, char **argv);
int       ckpt_tool_command_verify (int argc, char **argv);
int       ckpt_tool_command_prune  (int argc, char **argv);
int       ckpt_tool_command_delete (int argc, char **argv);
int       ckpt_tool_command_diff   (int argc, char **argv);

const CkptToolCommand *ckpt_tool_find_command (const char *name);

/* Errors: one line `ckpt: …` on stderr. Both return the exit status. */
int       ckpt_tool_fail           (const char *format,
                                    ...) G_GNUC_PRINTF (1, 2);
int       ckpt_tool_usage_error    (const char *command,
                                    const char *format,
                                    ...) G_GNUC_PRINTF (2, 3);
/* ckpt_tool_fail() with @error's message, or a usage error of @command
 * for CKPT_ERROR_INVALID_ARGUMENT (such as an invalid --prefix). */
int       ckpt_tool_fail_error     (const char   *command,
                                    const GError *error);
void      ckpt_tool_warn           (const char *format,
                                    ...) G_GNUC_PRINTF (1, 2);

/* Parses the options of @command with @context (whose help names the
 * command) and checks that between @min_args and @max_args positional
 * arguments remain; they are returned in @out_args (NULL-terminated, owned
 * by @argv). Returns FALSE with *exit_status set on a usage error. */
gboolean  ckpt_tool_parse_options  (GOptionContext   *context,
                                    const char       *command,
                                    int              *argc,
                                    char           ***argv,
                                    guint             min_args,
                                    guint             max_args,
                                    char           ***out_args,
                                    int              *exit_status);

/* The GOptionEntry of `--prefix`, shared by every command. */
#define CKPT_TOOL_PREFIX_ENTRY(location) \
  { "prefix", 'p', 0, G_OPTION_ARG_STRING, (location), \
    "File name prefix of the checkpoints (default: ‘" CKPT_MANAGER_DEFAULT_PREFIX "’)", "P" }

/* A manager of the existing directory @dir (a path or a URI) that reads
 * only: no retention is set, nothing is created. Fails, with a message fit
 * for ckpt_tool_fail_error(), when @prefix is invalid (checked first,
 * CKPT_ERROR_INVALID_ARGUMENT: a usage error) or @dir is missing or not a
 * directory. */
CkptManager *ckpt_tool_open        (const char   *dir,
                                    const char   *prefix,
                                    GError      **error);

/* Parses "latest" or a round number. */
gboolean  ckpt_tool_parse_round    (const char   *arg,
                                    gint64       *out_round_num,
                                    GError      **error);

/* Loads @round_num (or the newest intact checkpoint for
 * CKPT_TOOL_ROUND_LATEST, warning about each damaged one passed over),
 * verified. Returns the state and, in @out_info, its header. */
GVariant *ckpt_tool_load           (CkptManager  *manager,
                                    gint64        round_num,
                                    gint64       *out_round_num,
                                    CkptInfo    **out_info,
                                    GError      **error);

/* Status word of a checkpoint that failed to load or to be queried: "corrupt",
 * "unsupported", "missing" or "unreadable". */
const char *ckpt_tool_status_for_error (const GError *error);

char     *ckpt_tool_describe_dir   (CkptManager  *manager);
char     *ckpt_tool_describe_round (CkptManager  *manager,
                                    gint64        round_num);

/* ISO 8601 in UTC; @precise keeps the microseconds. */
char     *ckpt_tool_format_time    (GDateTime    *time,
                                    gboolean      precise);
/* The shortest text that reads back as @value ("0.1", "5.0", "1e-07", "nan"). */
char     *ckpt_tool_format_double  (double        value);

/* JSON */
JsonNode *ckpt_tool_variant_to_json (GVariant    *value);
void      ckpt_tool_info_to_json    (CkptInfo    *info,
                                     JsonBuilder *builder);
gboolean  ckpt_tool_print_json      (JsonNode    *root,
                                     GError     **error);

/* Tensors: a `(satay)` of dtype, shape and data (see ckpt-tool-tensor.c). */
typedef enum
{
  CKPT_TOOL_TENSOR_BOOL    = 'b',
  CKPT_TOOL_TENSOR_INT     = 'i',
  CKPT_TOOL_TENSOR_UINT    = 'u',
  CKPT_TOOL_TENSOR_FLOAT   = 'f',
  CKPT_TOOL_TENSOR_COMPLEX = 'c',
  CKPT_TOOL_TENSOR_BFLOAT  = 'B',  /* dtype kind "bf" */
} CkptToolTensorKind;

typedef struct
{
  const char    *dtype;       /* as written: "<f4" */
  char           order;       /* '<', '>' or '|' */
  char           kind;        /* a CkptToolTensorKind */
  gsize          itemsize;    /* bytes per element (both parts of a complex) */
  gsize          rank;
  const guint64 *shape;
  gsize          count;       /* elements: the product of the shape */
  const guint8  *data;
  /* Hold the memory of the above. */
  GVariant      *dtype_value;
  GVariant      *shape_value;
  GVariant      *data_value;
} CkptToolTensor;

/* FALSE (and @tensor cleared) unless @value is a `(satay)` with a valid
 * dtype and exactly product(shape) * itemsize bytes of data. */
gboolean  ckpt_tool_tensor_init    (CkptToolTensor       *tensor,
                                    GVariant             *value);
void      ckpt_tool_tensor_clear   (CkptToolTensor       *tensor);
gboolean  ckpt_tool_is_tensor      (GVariant             *value);
/* Element @index (C order): its raw bits in host order (@part 1: the
 * imaginary part of a complex), as an integer (kind 'i'), as a double (any
 * kind; bfloat16 and float16 converted exactly). */
guint64   ckpt_tool_tensor_bits    (const CkptToolTensor *tensor,
                                    gsize                 index,
                                    guint                 part);
gint64    ckpt_tool_tensor_int     (const CkptToolTensor *tensor,
                                    gsize                 index);
double    ckpt_tool_tensor_real    (const CkptToolTensor *tensor,
                                    gsize                 index,
                                    guint                 part);
/* Shortest text that reads back as the element at its precision ("0.1",
 * "3", "nan", "true", "1+2j"); _part: one part of a complex. */
char     *ckpt_tool_tensor_format_element (const CkptToolTensor *tensor,
                                           gsize                 index);
char     *ckpt_tool_tensor_format_part    (const CkptToolTensor *tensor,
                                           gsize                 index,
                                           guint                 part);
/* "tensor <f4 [2, 3]" */
char     *ckpt_tool_tensor_describe (const CkptToolTensor *tensor);

/* GVariant text, elided and wrapped. */
typedef struct
{
  guint max_depth;  /* containers nested deeper are shown as […]; 0: no limit */
  guint max_items;  /* array and dictionary items shown; 0: no limit */
  guint width;      /* containers longer than this are broken over lines;
                     * 0: one line */
} CkptToolPrintOptions;

char     *ckpt_tool_print_variant   (GVariant                   *value,
                                     gboolean                    type_annotate,
                                     const CkptToolPrintOptions *options);

G_END_DECLS
