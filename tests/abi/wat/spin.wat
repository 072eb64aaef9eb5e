;; Never returns: only the host's timeout (epoch interruption) can stop it.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever
      (br $forever))))
