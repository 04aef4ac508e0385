/** The end of the module's static data (math tables): JS keeps tensors above it. */
export function staticDataEnd(): usize {
  return __heap_base;
}
