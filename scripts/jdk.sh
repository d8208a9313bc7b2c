# Sourced by ./glmj and scripts/test: exports JAVA_HOME pointing at a JDK 25 or newer.
# Order: $JAVA_HOME if it is 25+, then the JDKs the usual places hold (Linux /usr/lib/jvm, macOS, SDKMAN).
glmj_jdk_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
glmj_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/.sdkman/candidates/java/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    major=$(glmj_jdk_major "$candidate")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}
if ! JAVA_HOME=$(glmj_find_jdk); then
  echo "glmj: no JDK 25 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm, /Library/Java/JavaVirtualMachines, ~/.sdkman). Install one and set JAVA_HOME." >&2
  exit 2
fi
export JAVA_HOME
