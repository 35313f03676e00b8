#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_runtime.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_dict.h>
#include <stdio.h>
#include <stddef.h>
#define P(name, expr) printf("%-40s %zu\n", name, (size_t)(expr))
int main(void) {
  printf("PY_VERSION %s\n", PY_VERSION);
  P("runtime.interpreters.head", offsetof(_PyRuntimeState, interpreters.head));
  P("runtime.interpreters.main", offsetof(_PyRuntimeState, interpreters.main));
  P("runtime.ceval.gil.last_holder", offsetof(_PyRuntimeState, ceval.gil.last_holder));
  P("runtime.ceval.gil.locked", offsetof(_PyRuntimeState, ceval.gil.locked));
  P("runtime.gilstate.tstate_current", offsetof(_PyRuntimeState, gilstate.tstate_current));
  P("sizeof runtime", sizeof(_PyRuntimeState));
  P("interp.next", offsetof(PyInterpreterState, next));
  P("interp.threads.head", offsetof(PyInterpreterState, threads.head));
  P("interp.modules", offsetof(PyInterpreterState, modules));
  P("tstate.prev", offsetof(PyThreadState, prev));
  P("tstate.next", offsetof(PyThreadState, next));
  P("tstate.interp", offsetof(PyThreadState, interp));
  P("tstate.cframe", offsetof(PyThreadState, cframe));
  P("tstate.thread_id", offsetof(PyThreadState, thread_id));
  P("tstate.native_thread_id", offsetof(PyThreadState, native_thread_id));
  P("cframe.current_frame", offsetof(_PyCFrame, current_frame));
  P("cframe.previous", offsetof(_PyCFrame, previous));
  P("frame.f_func", offsetof(_PyInterpreterFrame, f_func));
  P("frame.f_code", offsetof(_PyInterpreterFrame, f_code));
  P("frame.previous", offsetof(_PyInterpreterFrame, previous));
  P("frame.prev_instr", offsetof(_PyInterpreterFrame, prev_instr));
  P("frame.is_entry", offsetof(_PyInterpreterFrame, is_entry));
  P("frame.owner", offsetof(_PyInterpreterFrame, owner));
  P("code.ob_type", offsetof(PyObject, ob_type));
  P("code.co_firstlineno", offsetof(PyCodeObject, co_firstlineno));
  P("code.co_filename", offsetof(PyCodeObject, co_filename));
  P("code.co_name", offsetof(PyCodeObject, co_name));
  P("code.co_qualname", offsetof(PyCodeObject, co_qualname));
  P("code.co_linetable", offsetof(PyCodeObject, co_linetable));
  P("code._co_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
  P("code._co_code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
  P("bytes.ob_size", offsetof(PyVarObject, ob_size));
  P("bytes.ob_sval", offsetof(PyBytesObject, ob_sval));
  P("sizeof PyASCIIObject", sizeof(PyASCIIObject));
  P("sizeof PyCompactUnicodeObject", sizeof(PyCompactUnicodeObject));
  P("ascii.length", offsetof(PyASCIIObject, length));
  P("ascii.state", offsetof(PyASCIIObject, state));
  P("type.tp_name", offsetof(PyTypeObject, tp_name));
  P("type.tp_flags", offsetof(PyTypeObject, tp_flags));
  P("dict.ma_used", offsetof(PyDictObject, ma_used));
  P("dict.ma_keys", offsetof(PyDictObject, ma_keys));
  P("dict.ma_values", offsetof(PyDictObject, ma_values));
  P("dictkeys.dk_log2_size", offsetof(PyDictKeysObject, dk_log2_size));
  P("dictkeys.dk_log2_index_bytes", offsetof(PyDictKeysObject, dk_log2_index_bytes));
  P("dictkeys.dk_kind", offsetof(PyDictKeysObject, dk_kind));
  P("dictkeys.dk_nentries", offsetof(PyDictKeysObject, dk_nentries));
  P("dictkeys.dk_indices", offsetof(PyDictKeysObject, dk_indices));
  P("heaptype.ht_cached_keys", offsetof(PyHeapTypeObject, ht_cached_keys));
  P("long.ob_digit", offsetof(PyLongObject, ob_digit));
  P("module.md_dict", sizeof(PyObject));
  return 0;
}
